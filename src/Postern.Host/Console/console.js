'use strict';
// Postern System Manager: a console over the admin API (/api/v1) only.
let token = sessionStorage.getItem('postern-token') || '';
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
// RFC 1035 §3.3: a TXT record's character-strings hold at most 255 octets each, so a long value is several of them.
const zoneText = (text) => (text.match(/.{1,255}/g) || ['']).map((part) => `"${part}"`).join(' ');

async function fileBase64(id, what) {
  const file = $(id).files[0];
  if (!file) throw new Error('choose ' + what);
  if (file.size === 0) throw new Error(what + ' is empty');
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = ''; bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary);
}

async function api(method, path, body) {
  const response = await fetch('/api/v1/' + path, {
    method, headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) throw new Error(data && data.error ? data.error : response.statusText);
  return data;
}

const protocolNames = { Smtp: 'SMTP', Pop3: 'POP3', Imap: 'IMAP4', Nntp: 'NNTP', Http: 'HTTP' };

async function loadTree() {
  const [org, servers] = await Promise.all([api('GET', 'organization'), api('GET', 'virtual-servers')]);
  const byProtocol = {};
  for (const vs of servers) (byProtocol[vs.protocol] ||= []).push(vs);
  const protocols = Object.keys(protocolNames).filter((p) => byProtocol[p]).map((p) =>
    `<li><span>${protocolNames[p]}</span><ul>${byProtocol[p].map((vs) => `<li><span data-vs="${vs.id}">${esc(vs.name)}</span></li>`).join('')}</ul></li>`).join('');
  $('tree').innerHTML = `<ul><li><span>${esc(org.organization)}</span><ul><li><span>Administrative Groups</span><ul><li><span>${esc(org.administrativeGroup)}</span><ul>
    <li><span>Servers</span><ul><li><span title="store: ${esc(org.store || '')}">${esc(org.server)}</span><ul><li><span>Protocols</span><ul>${protocols}</ul></li></ul></li></ul></li>
    <li><span data-page="users">Users</span></li><li><span data-page="ca">Certification Authority</span></li><li><span data-page="queue">Queue</span></li><li><span data-page="domains">Domains and DKIM</span></li><li><span data-page="folders">Public Folders and Routing</span></li><li><span data-page="monitoring">Monitoring and Status</span></li>
  </ul></li></ul></li></ul></li></ul>`;
  $('tree').querySelectorAll('span[data-vs],span[data-page]').forEach((node) => node.addEventListener('click', async () => {
    $('tree').querySelectorAll('.selected').forEach((n) => n.classList.remove('selected'));
    node.classList.add('selected');
    // A page the API refuses (a virtual server deleted meanwhile, a token no longer valid) says why instead of leaving the last one up.
    try { if (node.dataset.vs) await showVirtualServer(node.dataset.vs); else await pages[node.dataset.page](); }
    catch (e) { $('main').innerHTML = `<h1>Error</h1><p class="error">${esc(e.message)}</p>`; }
  }));
}

async function showVirtualServer(id) {
  const vs = await api('GET', 'virtual-servers/' + id);
  const bindings = vs.bindings.map((b) => `<tr><td>${esc(b.address)}</td><td>${b.port}</td><td>${b.mode === 'ImplicitTls' ? 'implicit TLS' : 'STARTTLS / clear'}</td><td>${b.listening ? 'listening' : esc(b.error || 'down')}</td></tr>`).join('');
  $('main').innerHTML = `<h1>${esc(vs.name)} Properties</h1>
    <h2>General</h2><table><tr><th>Address</th><th>Port</th><th>Mode</th><th>State</th></tr>${bindings}</table>
    <p>${vs.enabled ? 'Started' : 'Stopped'} <button id="toggle">${vs.enabled ? 'Stop' : 'Start'}</button></p>
    <h2>Access</h2>
    <label><input type="checkbox" id="secure" ${vs.security.requireSecureChannel ? 'checked' : ''}> Require secure channel</label>
    <label><input type="checkbox" id="strong" ${vs.security.require128BitEncryption ? 'checked' : ''}> Require 128-bit encryption</label>
    <label><input type="checkbox" id="plainauth" ${vs.security.allowPlaintextAuthentication ? 'checked' : ''}> Allow passwords on unencrypted connections</label>
    <label>Minimum TLS version <select id="mintls"><option ${vs.security.minimumTlsVersion === '1.2' ? 'selected' : ''}>1.2</option><option ${vs.security.minimumTlsVersion === '1.3' ? 'selected' : ''}>1.3</option></select></label>
    <div class="buttons"><button id="apply">Apply</button><button id="certificate">Certificate…</button></div>
    <p id="status"></p><div id="wizard"></div>`;
  $('apply').onclick = () => run(async () => {
    await api('PATCH', 'virtual-servers/' + id, { requireSecureChannel: $('secure').checked, require128BitEncryption: $('strong').checked, allowPlaintextAuthentication: $('plainauth').checked, minimumTlsVersion: $('mintls').value });
    return 'Applied: new connections use these settings now.';
  });
  $('toggle').onclick = () => run(async () => { await api('PATCH', 'virtual-servers/' + id, { enabled: !vs.enabled }); await showVirtualServer(id); return vs.enabled ? 'Stopped' : 'Started'; });
  $('certificate').onclick = () => run(() => wizard(vs));
}

async function run(action) {
  try { const message = await action(); if (message && $('status')) { $('status').className = 'ok'; $('status').textContent = message; } }
  catch (e) { if ($('status')) { $('status').className = 'error'; $('status').textContent = e.message; } }
}

// The Web Server Certificate Wizard, one page at a time, driven by the wizard state the API reports.
async function wizard(vs) {
  const path = `virtual-servers/${vs.id}/certificate`;
  const status = await api('GET', path);
  const form = { online: false, friendlyName: vs.name, key: 'p256', organization: '', organizationalUnit: '', commonName: '', country: '', state: '', city: '', additionalNames: [] };
  const box = $('wizard');
  const page = (title, body, buttons) => {
    box.innerHTML = `<div class="wizard"><h3>${title}</h3>${body}<p class="error" id="wizError"></p><div class="buttons">${buttons.map((b, i) => `<button data-i="${i}">${b[0]}</button>`).join('')}</div></div>`;
    box.querySelectorAll('button[data-i]').forEach((btn) => btn.onclick = async () => {
      try { await buttons[btn.dataset.i][1](); } catch (e) { $('wizError').textContent = e.message; }
    });
  };
  const value = (id) => $(id).value.trim();
  const cancel = ['Cancel', () => { box.innerHTML = ''; }];

  const welcome = () => {
    const current = status.certificates.map((c) => `<li>${esc(c.friendlyName)}: issued to ${esc(c.subject)} by ${esc(c.issuer)}, expires ${esc(c.notAfter)}</li>`).join('');
    if (status.state === 'PendingRequest') {
      const p = status.pending;
      const atCa = p.caRequestId == null ? '' : p.caStatus === 'denied' ? ` The CA denied it (request ${esc(p.caRequestId)}): ${esc(p.caReason || 'no reason given')}.`
        : p.caStatus === 'pending' ? ` It is waiting for approval at the CA (request ${esc(p.caRequestId)}).` : ` Request ${esc(p.caRequestId)} at the CA: ${esc(p.caStatus)}.`;
      return page('Pending Certificate Request', `<p>There is a pending request (${esc(p.subject)}, created ${esc(p.created)}).${atCa}</p>
        <label><input type="radio" name="p" value="process" checked> Process the pending request and install the certificate</label>
        <label><input type="radio" name="p" value="delete"> Delete the pending request</label><pre>${esc(status.pending.requestPem)}</pre>`,
        [cancel, ['Next', () => (document.querySelector('input[name=p]:checked').value === 'process' ? processPending() : deletePending())]]);
    }
    // The choices are the ones the wizard's state allows (the API's allowedActions), as the original wizard offers them.
    const choices = [['PrepareRequest', 'new', 'Create a new certificate', delayed], ['Renew', 'renew', 'Renew the current certificate (built-in CA)', renew],
      ['AssignExisting', 'assign', 'Assign an existing certificate', assign], ['ImportPfx', 'import', 'Import a certificate from a .pfx file', importPfx],
      ['ExportPfx', 'export', 'Export the current certificate to a .pfx file', exportPfx], ['Remove', 'remove', 'Remove the current certificate', remove]]
      .filter(([action]) => status.allowedActions.includes(action));
    return page('Web Server Certificate Wizard', `<p>${current ? 'Current certificates:<ul>' + current + '</ul>' : 'This virtual server has no certificate.'}</p>
      ${choices.map(([, v, label], i) => `<label><input type="radio" name="c" value="${v}" ${i === 0 ? 'checked' : ''}> ${label}</label>`).join('')}`,
      [cancel, ['Next', () => choices.find(([, v]) => v === document.querySelector('input[name=c]:checked').value)[3]()]]);
  };
  const assign = async () => {
    const usable = (await api('GET', 'certificates')).filter((c) => c.kind === 'Server' && c.hasPrivateKey);
    if (usable.length === 0) throw new Error('there is no server certificate with a private key to assign');
    page('Assign an Existing Certificate', `<label>Certificate <select id="thumb">${usable.map((c) => `<option value="${esc(c.thumbprint)}">${esc(c.friendlyName)}: ${esc(c.subject)}, expires ${esc(c.notAfter)}</option>`).join('')}</select></label>`,
      [cancel, ['Next', async () => installed(await api('POST', path + '/assign', { thumbprint: value('thumb'), makeDefault: true }))]]);
  };
  const importPfx = () => page('Import a Certificate from a .pfx File', `<label>The .pfx file <input type="file" id="pfx"></label>
      <label>Its password <input type="password" id="pfxpw" autocomplete="off"></label>`,
    [cancel, ['Next', async () => installed(await api('POST', path + '/import', { base64: await fileBase64('pfx', 'the .pfx file'), password: $('pfxpw').value, friendlyName: form.friendlyName }))]]);
  const exportPfx = () => page('Export the Current Certificate to a .pfx File', `<label>Certificate <select id="thumb">${status.certificates.map((c) => `<option value="${esc(c.thumbprint)}">${esc(c.friendlyName)}: ${esc(c.subject)}</option>`).join('')}</select></label>
      <label>A password for the file <input type="password" id="pfxpw" autocomplete="new-password"></label>`,
    [cancel, ['Next', async () => {
      const thumbprint = value('thumb');
      const file = await api('POST', 'certificates/' + encodeURIComponent(thumbprint) + '/export', { password: $('pfxpw').value });
      const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
      const link = URL.createObjectURL(new Blob([bytes], { type: 'application/x-pkcs12' }));
      page('Certificate Exported', `<p><a href="${link}" download="${esc(thumbprint)}.pfx">Download the .pfx file</a>; its key is protected by the password you gave.</p>`, [['Finish', () => { box.innerHTML = ''; }]]);
    }]]);
  const remove = () => page('Remove the Current Certificate', `<p>${esc(vs.name)} will have no certificate: its TLS ports stop working until another is installed.</p>`,
    [cancel, ['Next', async () => { await api('DELETE', path); page('Certificate Removed', '', [['Finish', () => { box.innerHTML = ''; }]]); }]]);
  const delayed = () => page('Delayed or Immediate Request', `
      <label><input type="radio" name="d" value="later" checked> Prepare the request now, but send it later</label>
      <label><input type="radio" name="d" value="now"> Send the request immediately to an online certification authority</label>`,
    [cancel, ['Next', () => { form.online = document.querySelector('input[name=d]:checked').value === 'now'; names(); }]]);
  const names = () => page('Name and Security Settings', `
      <label>Name <input type="text" id="fn" value="${esc(form.friendlyName)}"></label>
      <label>Bit length <select id="key">${[['p256', 'ECDSA P-256'], ['p384', 'ECDSA P-384'], ['rsa2048', 'RSA 2048'], ['rsa3072', 'RSA 3072'], ['rsa4096', 'RSA 4096']]
        .map(([v, label]) => `<option value="${v}" ${form.key === v ? 'selected' : ''}>${label}</option>`).join('')}</select></label>`,
    [cancel, ['Next', () => { form.friendlyName = value('fn'); form.key = value('key'); organization(); }]]);
  const organization = () => page('Organization Information', `
      <label>Organization <input type="text" id="org" value="${esc(form.organization)}"></label>
      <label>Organizational unit <input type="text" id="ou" value="${esc(form.organizationalUnit)}"></label>`,
    [cancel, ['Back', names], ['Next', () => { form.organization = value('org'); form.organizationalUnit = value('ou'); commonName(); }]]);
  const commonName = () => page("Your Site's Common Name", `
      <label>Common name (a fully qualified domain name clients use) <input type="text" id="cn" value="${esc(form.commonName)}"></label>
      <label>Other names, comma separated <input type="text" id="san" value="${esc(form.additionalNames.join(', '))}"></label>`,
    [cancel, ['Back', organization], ['Next', () => { form.commonName = value('cn'); form.additionalNames = value('san').split(',').map((s) => s.trim()).filter(Boolean); geography(); }]]);
  const geography = () => page('Geographical Information', `
      <label>Country/Region (two letters) <input type="text" id="country" maxlength="2" value="${esc(form.country)}"></label>
      <label>State/province <input type="text" id="state" value="${esc(form.state)}"></label>
      <label>City/locality <input type="text" id="city" value="${esc(form.city)}"></label>`,
    [cancel, ['Back', commonName], ['Next', () => { form.country = value('country').toUpperCase(); form.state = value('state'); form.city = value('city'); summary(); }]]);
  const summary = () => page(form.online ? 'Certificate Request Submission' : 'Request File Summary', `<table>
      ${[['Name', form.friendlyName], ['Key', form.key], ['Organization', form.organization], ['Organizational unit', form.organizationalUnit], ['Common name', form.commonName],
         ['Other names', form.additionalNames.join(', ')], ['Country/Region', form.country], ['State/Province', form.state], ['City/Locality', form.city],
         ['Certification authority', form.online ? 'the organization\'s online CA' : 'external (send the file yourself)']].map(([k, v]) => `<tr><th>${k}</th><td>${esc(v)}</td></tr>`).join('')}</table>`,
    [cancel, ['Back', geography], ['Next', submit]]);
  const submit = async () => {
    const result = await api('POST', path + '/request', form);
    if (form.online) {
      return result.installed ? installed(result.installed) : page('Request Pending', `<p>The CA holds the request (number ${result.caRequestId}) until an administrator approves it.</p>`, [['Finish', () => { box.innerHTML = ''; }]]);
    }
    const blob = URL.createObjectURL(new Blob([result.requestPem], { type: 'application/pkcs10' }));
    page('Completing the Web Server Certificate Wizard', `<p>You have created a certificate request. Send it to your certification authority, then run this wizard again to process the answer.</p>
      <p><a href="${blob}" download="certreq.txt">Download certreq.txt</a></p><pre>${esc(result.requestPem)}</pre>`, [['Finish', () => { box.innerHTML = ''; }]]);
  };
  const processPending = () => page('Process a Pending Request', `<label>The certificate file from your CA (.cer, PEM or .p7b) <input type="file" id="cer"></label>`,
    [cancel, ['Next', async () => {
      installed(await api('POST', path + '/install', { base64: await fileBase64('cer', 'the certificate file') }));
    }]]);
  const deletePending = async () => { await api('DELETE', path + '/pending'); page('Pending Request Deleted', '', [['Finish', () => { box.innerHTML = ''; }]]); };
  const renew = async () => installed(await api('POST', path + '/renew'));
  const installed = (s) => page('Certificate Summary', `<p class="ok">The certificate is installed on ${esc(vs.name)}.</p><table>
      ${[['Issued to', s.issuedTo], ['Issued by', s.issuedBy], ['Expiration date', s.expires], ['Intended purposes', (s.intendedPurposes || []).join(', ')], ['Friendly name', s.friendlyName], ['Thumbprint', s.thumbprint]]
        .map(([k, v]) => `<tr><th>${k}</th><td>${esc(v)}</td></tr>`).join('')}</table>`, [['Finish', () => { box.innerHTML = ''; }]]);
  welcome();
}

const pages = {
  async users() {
    const [users, aliases] = await Promise.all([api('GET', 'users'), api('GET', 'aliases')]);
    const size = (n) => n > 0 ? (n >= 1 << 30 ? (n / (1 << 30)).toFixed(1) + ' GiB' : n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + ' MiB' : Math.ceil(n / 1024) + ' KiB') : 'none';
    $('main').innerHTML = `<h1>Users</h1><table><tr><th>Address</th><th>State</th><th>Used</th><th>Quota</th><th></th></tr>${users.map((u) => `<tr><td>${esc(u.address)}</td><td>${u.enabled ? 'enabled' : 'disabled'}</td>
      <td>${u.usedBytes ? size(u.usedBytes) : '0'}</td><td>${size(u.quotaBytes)}</td><td><button data-enable="${esc(u.address)}" data-to="${!u.enabled}">${u.enabled ? 'Disable' : 'Enable'}</button>
      <input type="text" size="6" placeholder="MiB" data-quota-for="${esc(u.address)}"><button data-quota="${esc(u.address)}">Set quota</button>
      <input type="password" size="10" placeholder="new password" autocomplete="new-password" data-password-for="${esc(u.address)}"><button data-password="${esc(u.address)}">Set password</button>
      <button data-remove="${esc(u.address)}">Remove</button></td></tr>`).join('')}</table>
      <h2>New user</h2><label>Address <input type="text" id="addr"></label><label>Password <input type="password" id="pw" autocomplete="new-password"></label>
      <div class="buttons"><button id="add">Add</button></div>
      <h2>Aliases</h2><table><tr><th>Alias</th><th>Delivers to</th><th></th></tr>${aliases.map((a) => `<tr><td>${esc(a.alias)}</td><td>${esc(a.target)}</td><td><button data-unalias="${esc(a.alias)}">Remove</button></td></tr>`).join('')}</table>
      <label>Alias <input type="text" id="alias"></label><label>Delivers to <input type="text" id="target"></label><div class="buttons"><button id="addAlias">Add alias</button></div><p id="status"></p>`;
    const path = (address) => 'users/' + encodeURIComponent(address);
    $('add').onclick = () => run(async () => { await api('POST', 'users', { address: $('addr').value.trim(), password: $('pw').value }); await pages.users(); return 'Added'; });
    $('main').querySelectorAll('button[data-enable]').forEach((b) => b.onclick = () => run(async () => {
      await api('PUT', path(b.dataset.enable) + '/enabled', { enabled: b.dataset.to === 'true' }); await pages.users(); return 'Saved'; }));
    $('main').querySelectorAll('button[data-quota]').forEach((b) => b.onclick = () => run(async () => {
      const input = [...$('main').querySelectorAll('input[data-quota-for]')].find((i) => i.dataset.quotaFor === b.dataset.quota);
      if (input.value.trim() === '') throw new Error('Enter the quota in MiB (0 for none)');
      const mib = Number(input.value);
      if (!Number.isFinite(mib) || mib < 0) throw new Error('The quota is a number of MiB, 0 for none');
      await api('PUT', path(b.dataset.quota) + '/quota', { quotaBytes: Math.round(mib * 1024 * 1024) }); await pages.users(); return 'Saved'; }));
    $('main').querySelectorAll('button[data-password]').forEach((b) => b.onclick = () => run(async () => {
      const input = [...$('main').querySelectorAll('input[data-password-for]')].find((i) => i.dataset.passwordFor === b.dataset.password);
      await api('PUT', path(b.dataset.password) + '/password', { password: input.value }); input.value = ''; return 'Password set'; }));
    $('main').querySelectorAll('button[data-remove]').forEach((b) => b.onclick = () => run(async () => {
      if (!confirm(`Remove ${b.dataset.remove} and all of its mail?`)) return '';
      await api('DELETE', path(b.dataset.remove)); await pages.users(); return 'Removed'; }));
    $('main').querySelectorAll('button[data-unalias]').forEach((b) => b.onclick = () => run(async () => {
      await api('DELETE', 'aliases/' + encodeURIComponent(b.dataset.unalias)); await pages.users(); return 'Removed'; }));
    $('addAlias').onclick = () => run(async () => { await api('POST', 'aliases', { alias: $('alias').value.trim(), target: $('target').value.trim() }); await pages.users(); return 'Added'; });
  },
  async ca() {
    const [ca, issued, root, requests, certificates] = await Promise.all([api('GET', 'ca'), api('GET', 'ca/issued'), api('GET', 'ca/root.pem'), api('GET', 'ca/requests'), api('GET', 'certificates')]);
    const roots = certificates.filter((c) => c.kind === 'TrustedRoot');
    $('main').innerHTML = `<h1>Certification Authority</h1><p>${esc(ca.kind)} CA: ${esc(ca.subject)}, expires ${esc(ca.notAfter)}</p>
      <p><a href="${URL.createObjectURL(new Blob([root], { type: 'application/x-pem-file' }))}" download="ca.pem">Download the root certificate</a> for clients to trust.</p>
      <label>Mode <select id="camode">${['Enterprise', 'Standalone'].map((m) => `<option ${ca.mode === m ? 'selected' : ''}>${m}</option>`).join('')}</select></label>
      <div class="buttons"><button id="setmode">Apply</button></div>
      <h2>Requests</h2>${requests.length === 0 ? '<p>None.</p>' : `<table><tr><th>Number</th><th>Subject</th><th>Requester</th><th>Status</th><th></th></tr>
      ${requests.map((r) => `<tr><td>${r.id}</td><td>${esc(r.subject)}</td><td>${esc(r.requester)}</td><td>${esc(r.status)}${r.reason ? ': ' + esc(r.reason) : ''}</td>
        <td>${r.status === 'pending' ? `<button data-approve="${r.id}">Approve</button><button data-deny="${r.id}">Deny</button>` : ''}</td></tr>`).join('')}</table>`}
      <h2>Issued certificates</h2><table><tr><th>Serial</th><th>Subject</th><th>Expires</th><th>State</th><th></th></tr>
      ${issued.map((i) => `<tr><td>${esc(i.serialNumber)}</td><td>${esc(i.subject)}</td><td>${esc(i.notAfter)}</td><td>${i.revoked ? 'revoked' : 'valid'}</td><td>${i.revoked ? '' : `<button data-serial="${esc(i.serialNumber)}">Revoke</button>`}</td></tr>`).join('')}</table>
      <h2>Trusted root certification authorities</h2><p>An external CA's root, so that certificates it issues can be installed and user certificates it issues can log on.</p>
      ${roots.length === 0 ? '' : `<table><tr><th>Name</th><th>Subject</th><th>Expires</th><th></th></tr>${roots.map((c) => `<tr><td>${esc(c.friendlyName)}</td><td>${esc(c.subject)}</td><td>${esc(c.notAfter)}</td>
        <td><button data-untrust="${esc(c.thumbprint)}">Remove</button></td></tr>`).join('')}</table>`}
      <label>Root certificate (.cer, PEM or .p7b) <input type="file" id="rootfile"></label><div class="buttons"><button id="trust">Trust this root</button></div><p id="status"></p>`;
    const main = $('main');
    $('setmode').onclick = () => run(async () => { await api('PUT', 'ca/mode', { mode: $('camode').value }); await pages.ca(); return 'Saved'; });
    main.querySelectorAll('button[data-approve]').forEach((b) => b.onclick = () => run(async () => { const i = await api('POST', `ca/requests/${b.dataset.approve}/approve`); await pages.ca(); return 'Issued serial ' + i.serialNumber; }));
    main.querySelectorAll('button[data-deny]').forEach((b) => b.onclick = () => run(async () => { await api('POST', `ca/requests/${b.dataset.deny}/deny`, { reason: 'denied by the administrator' }); await pages.ca(); return 'Denied'; }));
    main.querySelectorAll('button[data-serial]').forEach((b) => b.onclick = () => run(async () => { await api('POST', 'ca/revoke', { serialNumber: b.dataset.serial, reason: 'Unspecified' }); await pages.ca(); return 'Revoked'; }));
    main.querySelectorAll('button[data-untrust]').forEach((b) => b.onclick = () => run(async () => { await api('DELETE', 'certificates/' + encodeURIComponent(b.dataset.untrust)); await pages.ca(); return 'Removed'; }));
    $('trust').onclick = () => run(async () => { await api('POST', 'ca/trusted-roots', { base64: await fileBase64('rootfile', 'the root certificate file') }); await pages.ca(); return 'Trusted'; });
  },
  async domains() {
    const [domains, keys] = await Promise.all([api('GET', 'domains'), api('GET', 'dkim')]);
    const names = domains.map((d) => (typeof d === 'string' ? d : d.name));
    const byDomain = Object.fromEntries(keys.map((k) => [k.domain, k]));
    $('main').innerHTML = `<h1>Domains and DKIM</h1><p>Mail that a user submits from a domain with a key is DKIM-signed; publish the key's TXT record in that domain's DNS.</p>
      <table><tr><th>Domain</th><th>DKIM</th><th></th></tr>${names.map((n) => {
        const k = byDomain[n.toLowerCase()];
        return `<tr><td>${esc(n)}</td><td>${k ? `selector ${esc(k.selector)}<pre>${esc(k.dnsName)}. IN TXT ${esc(zoneText(k.dnsText))}</pre>` : 'not signed'}</td>
          <td><button data-dkim="${esc(n)}">${k ? 'New key' : 'Sign this domain'}</button>${k ? `<button data-dkimcheck="${esc(n)}">Check DNS</button><button data-undkim="${esc(n)}">Stop signing</button>` : ''}<button data-undomain="${esc(n)}">Remove</button></td></tr>`;
      }).join('')}</table><label>Local domain <input type="text" id="domain"></label><div class="buttons"><button id="addDomain">Add domain</button></div><p id="status"></p>`;
    $('addDomain').onclick = () => run(async () => { await api('POST', 'domains', { name: $('domain').value.trim() }); await pages.domains(); return 'Added'; });
    $('main').querySelectorAll('button[data-undomain]').forEach((b) => b.onclick = () => run(async () => {
      await api('DELETE', 'domains/' + encodeURIComponent(b.dataset.undomain)); await pages.domains(); return 'Removed'; }));
    $('main').querySelectorAll('button[data-dkim]').forEach((b) => b.onclick = () => run(async () => {
      await api('PUT', 'dkim/' + encodeURIComponent(b.dataset.dkim), {}); await pages.domains(); return 'Key made: publish the TXT record before mail relies on it.'; }));
    $('main').querySelectorAll('button[data-dkimcheck]').forEach((b) => b.onclick = () => run(async () => {
      const r = await api('GET', 'dkim/' + encodeURIComponent(b.dataset.dkimcheck) + '/check');
      if (r.status !== 'published') throw new Error(`${r.dnsName}: ${r.status}`);
      return `${r.dnsName}: published`; }));
    $('main').querySelectorAll('button[data-undkim]').forEach((b) => b.onclick = () => run(async () => {
      await api('DELETE', 'dkim/' + encodeURIComponent(b.dataset.undkim)); await pages.domains(); return 'No longer signed'; }));
  },
  async folders() {
    const [folders, peers, routes] = await Promise.all([api('GET', 'public-folders'), api('GET', 'news/peers'), api('GET', 'routes')]);
    const rights = (f) => Object.entries(f.permissions).map(([who, what]) => `${who}=${what}`).join(' ');
    $('main').innerHTML = `<h1>Public Folders and Routing</h1>
      <h2>Public folders</h2><table><tr><th>Folder</th><th>Newsgroup</th><th>Permissions</th><th></th></tr>${folders.map((f) => `<tr><td>${esc(f.path)}</td><td>${esc(f.newsgroup)}</td><td>${esc(rights(f))}</td>
        <td><input type="text" size="24" placeholder="anonymous=read authenticated=read,post" data-rights-for="${esc(f.path)}"><button data-rights="${esc(f.path)}">Set permissions</button><button data-unfolder="${esc(f.path)}">Remove</button></td></tr>`).join('')}</table>
      <label>Folder <input type="text" id="folder" placeholder="Example/General"></label><label>Newsgroup <input type="text" id="newsgroup" placeholder="example.general"></label><div class="buttons"><button id="addFolder">Add folder</button></div>
      <h2>Newsfeed peers</h2><table><tr><th>Name</th><th>Host</th><th>Groups</th><th>Direction</th><th></th></tr>${peers.map((p) => `<tr><td>${esc(p.name)}</td><td>${esc(p.host)}:${p.port}</td><td>${esc(p.groups)}</td><td>${esc(p.direction)}</td>
        <td><button data-unpeer="${esc(p.name)}">Remove</button></td></tr>`).join('')}</table>
      <label>Name (the partner's host name) <input type="text" id="peername"></label><label>Host <input type="text" id="peerhost"></label><label>Port (563, implicit TLS) <input type="text" id="peerport" value="563"></label>
      <label>Groups <input type="text" id="peergroups" value="*"></label><label>Direction <select id="peerdirection"><option>Both</option><option>Push</option><option>Pull</option></select></label>
      <div class="buttons"><button id="addPeer">Add peer</button></div>
      <h2>SMTP routes</h2><table><tr><th>Domain</th><th>Next hop</th><th>TLS</th><th></th></tr>${routes.map((r) => `<tr><td>${esc(r.domain)}</td><td>${esc(r.host)}:${r.port}</td><td>${esc(r.tls)}${r.verify ? ', verified' : ''}</td>
        <td><button data-unroute="${esc(r.domain)}">Remove</button></td></tr>`).join('')}</table>
      <label>Domain ("*" for a smart host) <input type="text" id="routedomain"></label><label>Host <input type="text" id="routehost"></label><label>Port <input type="text" id="routeport" value="25"></label>
      <label>TLS <select id="routetls"><option>opportunistic</option><option>required</option><option>none</option></select></label><label><input type="checkbox" id="routeverify"> Verify the certificate (TLS required)</label>
      <div class="buttons"><button id="addRoute">Add route</button></div><p id="status"></p>`;
    const main = $('main');
    const port = (id) => { const n = Number($(id).value); if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error('the port is a number from 1 to 65535'); return n; };
    $('addFolder').onclick = () => run(async () => { await api('POST', 'public-folders', { path: $('folder').value.trim(), newsgroup: $('newsgroup').value.trim() || null }); await pages.folders(); return 'Added'; });
    main.querySelectorAll('button[data-rights]').forEach((b) => b.onclick = () => run(async () => {
      const input = [...main.querySelectorAll('input[data-rights-for]')].find((i) => i.dataset.rightsFor === b.dataset.rights);
      const permissions = Object.fromEntries(input.value.trim().split(/\s+/).filter(Boolean).map((pair) => { const at = pair.indexOf('='); if (at < 1) throw new Error(`'${pair}' is not WHO=RIGHTS`); return [pair.slice(0, at), pair.slice(at + 1)]; }));
      await api('PATCH', 'public-folders?path=' + encodeURIComponent(b.dataset.rights), { permissions }); await pages.folders(); return 'Saved'; }));
    main.querySelectorAll('button[data-unfolder]').forEach((b) => b.onclick = () => run(async () => {
      if (!confirm(`Remove ${b.dataset.unfolder} and its messages?`)) return '';
      await api('DELETE', 'public-folders?path=' + encodeURIComponent(b.dataset.unfolder)); await pages.folders(); return 'Removed'; }));
    $('addPeer').onclick = () => run(async () => {
      await api('POST', 'news/peers', { name: $('peername').value.trim(), host: $('peerhost').value.trim(), port: port('peerport'), groups: $('peergroups').value.trim(), direction: $('peerdirection').value });
      await pages.folders(); return 'Added'; });
    main.querySelectorAll('button[data-unpeer]').forEach((b) => b.onclick = () => run(async () => { await api('DELETE', 'news/peers/' + encodeURIComponent(b.dataset.unpeer)); await pages.folders(); return 'Removed'; }));
    $('addRoute').onclick = () => run(async () => {
      await api('POST', 'routes', { domain: $('routedomain').value.trim(), host: $('routehost').value.trim(), port: port('routeport'), tls: $('routetls').value, verify: $('routeverify').checked });
      await pages.folders(); return 'Added'; });
    main.querySelectorAll('button[data-unroute]').forEach((b) => b.onclick = () => run(async () => { await api('DELETE', 'routes/' + encodeURIComponent(b.dataset.unroute)); await pages.folders(); return 'Removed'; }));
  },
  async monitoring() {
    const [stats, servers] = await Promise.all([api('GET', 'stats'), api('GET', 'virtual-servers')]);
    const listeners = servers.flatMap((vs) => vs.bindings.map((b) => ({ vs, b })));
    $('main').innerHTML = `<h1>Monitoring and Status</h1><p>${esc(stats.node)}, running since ${esc(new Date(stats.started).toLocaleString())}.</p>
      <h2>Since start</h2><table><tr><th>Protocol</th><th>Connections</th><th>Open now</th><th>Refused</th><th>TLS handshakes</th><th>TLS failed</th><th>Logons</th><th>Logons failed</th><th>Work</th></tr>
      ${stats.protocols.map((p) => `<tr><td>${esc(p.protocol.toUpperCase())}</td><td>${p.connectionsAccepted}</td><td>${p.connectionsActive}</td><td>${p.connectionsRefused}</td><td>${p.tlsHandshakes}</td><td>${p.tlsFailures}</td>
        <td>${p.logonsSucceeded}</td><td>${p.logonsFailed}</td><td>${p.itemCount} ${esc(p.items.replace('.', ' '))}</td></tr>`).join('')}</table>
      <p>Outbound: ${stats.outbound.delivered} delivered, ${stats.outbound.deferred} deferred, ${stats.outbound.bounced} bounced.</p>
      <h2>Listeners</h2><table><tr><th>Virtual server</th><th>Address</th><th>Port</th><th>State</th></tr>
      ${listeners.map(({ vs, b }) => `<tr><td>${esc(vs.name)}</td><td>${esc(b.address)}</td><td>${b.port}</td><td>${!vs.enabled ? 'stopped' : b.listening ? 'listening' : esc(b.error || 'down')}</td></tr>`).join('')}</table>
      <div class="buttons"><button id="refresh">Refresh</button></div>`;
    $('refresh').onclick = () => pages.monitoring();
  },
  async queue() {
    const queue = await api('GET', 'queue');
    $('main').innerHTML = `<h1>Queue</h1><table><tr><th>Id</th><th>Sender</th><th>Recipients</th><th>Attempts</th><th>Last error</th><th></th></tr>
      ${queue.map((q) => `<tr><td>${q.id}</td><td>${esc(q.sender || '<>')}</td><td>${esc(q.recipients.map((r) => r.address).join(', '))}</td><td>${q.attempts}</td><td>${esc(q.lastError)}</td>
        <td><button data-retry="${q.id}">Retry now</button><button data-delete="${q.id}">Delete</button></td></tr>`).join('')}</table>
      <div class="buttons"><button id="flush">Retry all now</button></div><p id="status"></p>`;
    $('flush').onclick = () => run(async () => { await api('POST', 'queue/flush'); await pages.queue(); return 'Retrying'; });
    $('main').querySelectorAll('button[data-retry]').forEach((b) => b.onclick = () => run(async () => { await api('POST', `queue/${b.dataset.retry}/retry`); await pages.queue(); return 'Retrying'; }));
    $('main').querySelectorAll('button[data-delete]').forEach((b) => b.onclick = () => run(async () => {
      if (!confirm(`Delete message ${b.dataset.delete} without delivering it?`)) return '';
      await api('DELETE', `queue/${b.dataset.delete}`); await pages.queue(); return 'Deleted'; }));
  },
};

$('login').onsubmit = async (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  try { await loadTree(); sessionStorage.setItem('postern-token', token); $('main').innerHTML = '<h1>Postern System Manager</h1><p>Choose a virtual server in the tree.</p>'; }
  catch (err) { $('loginError').textContent = err.message; }
};
if (token) loadTree().then(() => { $('main').innerHTML = '<h1>Postern System Manager</h1><p>Choose a virtual server in the tree.</p>'; }).catch(() => {});
