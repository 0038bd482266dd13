using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Postern.Host.Admin;
using Postern.Pki;

namespace Postern.Host.Cli;

/// <summary>`postern cert …` (the certificate wizard per virtual server), `postern ca …`, and `postern check`.</summary>
internal static class CertificateCommands
{
    public static IEnumerable<Command> Create() => [Cert(), Ca(), CheckCommand.Create()];

    private static string WizardPath(ParseResult parse, Argument<string> vs, string suffix = "") =>
        "virtual-servers/" + AdminClient.Escape(parse.GetValue(vs)!) + "/certificate" + suffix;

    private static Command Cert()
    {
        var cert = new Command("cert", "The certificate wizard of each virtual server: request, install, assign, renew, import, export");

        // --- request (the article's "Create a new certificate")
        {
            var vs = new Argument<string>("virtual-server");
            var offline = new Option<bool>("--offline") { Description = "Prepare the request now, but send it later (writes a PKCS#10 certreq file)" };
            var online = new Option<bool>("--online") { Description = "Send the request immediately to the online certification authority (the built-in CA)" };
            var friendly = new Option<string?>("--friendly-name") { Description = "Default: Default <Protocol> Virtual Server" };
            var key = new Option<string?>("--key") { Description = "rsa2048|rsa3072|rsa4096|p256|p384" };
            var bits = new Option<int?>("--bits") { Description = "RSA bit length (the article's Bit Length): 2048, 3072 or 4096" };
            var org = new Option<string>("--org") { Description = "Organization", Required = true };
            var ou = new Option<string?>("--ou") { Description = "Organizational unit" };
            var cn = new Option<string>("--cn") { Description = "Common name: the FQDN clients use for this virtual server", Required = true };
            var san = new Option<string[]>("--san") { Description = "More DNS names or IP addresses", AllowMultipleArgumentsPerToken = true };
            var country = new Option<string>("--country") { Description = "Country/Region, ISO 3166 two letters", Required = true };
            var state = new Option<string?>("--state") { Description = "State/Province" };
            var city = new Option<string?>("--city") { Description = "City/Locality" };
            var output = new Option<string?>("--out") { Description = "Request file to write (default certreq.txt)" };
            var request = new Command("request", "Create a new certificate request for a virtual server") { vs, offline, online, friendly, key, bits, org, ou, cn, san, country, state, city, output };
            request.SetAdminAction(async (parse, client, ct) =>
            {
                if (parse.GetValue(offline) == parse.GetValue(online))
                {
                    throw new CliException("choose --offline (prepare now, send later) or --online (send to the online CA now)");
                }

                foreach (var (option, what) in new[] { (org, "the organization's legal name"), (cn, "the FQDN clients use"), (country, "two letters, like GB") })
                {
                    if (string.IsNullOrWhiteSpace(parse.GetValue(option)))
                    {
                        throw new CliException($"{option.Name} must not be empty: {what}");
                    }
                }

                if (!parse.GetValue(online))
                {
                    CliSupport.EnsureWritable(parse.GetValue(output) ?? "certreq.txt");
                }

                var body = new WizardRequest(parse.GetValue(online), parse.GetValue(cn)!, parse.GetValue(friendly), parse.GetValue(key), parse.GetValue(bits),
                    parse.GetValue(org), parse.GetValue(ou), parse.GetValue(san), parse.GetValue(country), parse.GetValue(state), parse.GetValue(city));
                if (parse.GetValue(online))
                {
                    var outcome = await client.PostAsync<JsonElement>(WizardPath(parse, vs, "/request"), body, ct);
                    CliSupport.Print(parse, outcome, o => [[o.GetProperty("state").GetString() == "Installed"
                        ? "certificate issued by the online CA and installed: " + Summary(o.GetProperty("installed"))
                        : $"request {o.GetProperty("caRequestId")} is pending at the CA (standalone mode): an administrator approves it with 'postern ca approve ID'"]]);
                    return;
                }

                var prepared = await client.PostAsync<PreparedRequest>(WizardPath(parse, vs, "/request"), body, ct);
                var file = parse.GetValue(output) ?? "certreq.txt";
                await File.WriteAllTextAsync(file, prepared.RequestPem, ct);
                CliSupport.Print(parse, prepared with { FileName = Path.GetFullPath(file) }, p =>
                [
                    [$"request for {p.Subject} written to {p.FileName}"],
                    [$"names: {string.Join(", ", p.Names)}"],
                    ["send it to your CA, then install its answer: postern cert install \"" + parse.GetValue(vs) + "\" --file certnew.cer"],
                ]);
            });
            cert.Subcommands.Add(request);
        }

        {
            var vs = new Argument<string>("virtual-server");
            var pending = new Command("pending", "Show the pending certificate request of a virtual server") { vs };
            pending.SetAdminAction(async (parse, client, ct) =>
            {
                var status = await client.GetAsync<WizardStatus>(WizardPath(parse, vs), ct);
                if (status.Pending is null)
                {
                    throw new CliException("there is no pending request for this virtual server");
                }

                CliSupport.Print(parse, status.Pending, p => [[$"pending since {p.Created:u}: {p.Subject} ({p.KeyAlgorithm}) names {string.Join(", ", p.Names)}{AtTheCa(p)}"], [p.RequestPem.TrimEnd()]]);
            });
            cert.Subcommands.Add(pending);
        }

        {
            var vs = new Argument<string>("virtual-server");
            var file = new Option<string>("--file") { Description = "The CA's answer: .cer (DER or PEM) or .p7b chain", Required = true };
            var install = new Command("install", "Process the pending request and install the certificate") { vs, file };
            install.SetAdminAction(async (parse, client, ct) =>
            {
                var bytes = await ReadFileAsync(parse.GetValue(file)!, ct);
                var summary = await client.PostAsync<JsonElement>(WizardPath(parse, vs, "/install"), new FileContent(Convert.ToBase64String(bytes)), ct);
                CliSupport.Print(parse, summary, s => [["installed: " + Summary(s)]]);
            });
            cert.Subcommands.Add(install);
        }

        {
            var vs = new Argument<string>("virtual-server");
            var deletePending = new Command("delete-pending", "Delete the pending request") { vs };
            deletePending.SetAdminAction(async (parse, client, ct) =>
            {
                await client.DeleteAsync(WizardPath(parse, vs, "/pending"), ct);
                CliSupport.Print(parse, new { deleted = true }, _ => [["pending request deleted"]]);
            });
            cert.Subcommands.Add(deletePending);
        }

        {
            var vs = new Argument<string>("virtual-server");
            var show = new Command("show", "Show a virtual server's certificates and wizard state") { vs };
            show.SetAdminAction(async (parse, client, ct) =>
            {
                var status = await client.GetAsync<WizardStatus>(WizardPath(parse, vs), ct);
                CliSupport.Print(parse, status, s => new[] { new[] { $"state: {s.State}{(s.Pending is { } p ? AtTheCa(p) : "")}; next: {string.Join(", ", s.AllowedActions)}" } }
                    .Concat(s.Certificates.Select(c => new[] { $"{c.Thumbprint}  {c.FriendlyName}  issued to {c.Subject} by {c.Issuer}, expires {c.NotAfter:u}, purposes {string.Join(",", c.EnhancedKeyUsages)}, names {string.Join(",", c.SubjectAlternativeNames)}" })));
            });
            cert.Subcommands.Add(show);
        }

        {
            var vs = new Argument<string>("virtual-server");
            var thumbprint = new Option<string>("--thumbprint") { Required = true };
            var notDefault = new Option<bool>("--sni-only") { Description = "Add for SNI only; keep the current default certificate" };
            var assign = new Command("assign", "Assign an existing certificate to a virtual server") { vs, thumbprint, notDefault };
            assign.SetAdminAction(async (parse, client, ct) =>
            {
                var summary = await client.PostAsync<JsonElement>(WizardPath(parse, vs, "/assign"), new AssignRequest(parse.GetValue(thumbprint)!, !parse.GetValue(notDefault)), ct);
                CliSupport.Print(parse, summary, s => [["assigned: " + Summary(s)]]);
            });
            cert.Subcommands.Add(assign);
        }

        {
            var vs = new Argument<string>("virtual-server");
            var thumbprint = new Option<string?>("--thumbprint") { Description = "Default: the default certificate" };
            var remove = new Command("remove", "Remove a certificate from a virtual server") { vs, thumbprint };
            remove.SetAdminAction(async (parse, client, ct) =>
            {
                var t = parse.GetValue(thumbprint);
                await client.DeleteAsync(WizardPath(parse, vs) + (t is null ? "" : "?thumbprint=" + AdminClient.Escape(t)), ct);
                CliSupport.Print(parse, new { removed = true }, _ => [["certificate removed"]]);
            });
            cert.Subcommands.Add(remove);
        }

        {
            var vs = new Argument<string>("virtual-server");
            var renew = new Command("renew", "Renew a virtual server's certificate from the built-in CA (new key, same names)") { vs };
            renew.SetAdminAction(async (parse, client, ct) =>
            {
                var summary = await client.PostAsync<JsonElement>(WizardPath(parse, vs, "/renew"), null, ct);
                CliSupport.Print(parse, summary, s => [["renewed: " + Summary(s)]]);
            });
            cert.Subcommands.Add(renew);
        }

        {
            var vs = new Argument<string>("virtual-server");
            var file = new Option<string>("--file") { Required = true, Description = "PKCS#12 (.pfx) file" };
            var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the PFX password from standard input" };
            var friendly = new Option<string?>("--friendly-name");
            var import = new Command("import", "Import a certificate with its key from a PFX file and install it") { vs, file, passwordStdin, friendly };
            import.SetAdminAction(async (parse, client, ct) =>
            {
                var bytes = await ReadFileAsync(parse.GetValue(file)!, ct);
                var password = parse.GetValue(passwordStdin) ? await CliSupport.ReadPasswordFromStdinAsync() : null;
                var summary = await client.PostAsync<JsonElement>(WizardPath(parse, vs, "/import"), new ImportRequest(Convert.ToBase64String(bytes), password, parse.GetValue(friendly)), ct);
                CliSupport.Print(parse, summary, s => [["imported: " + Summary(s)]]);
            });
            cert.Subcommands.Add(import);
        }

        {
            var thumbprint = new Option<string>("--thumbprint") { Required = true };
            var output = new Option<string>("--out") { Required = true, Description = "PFX file to write" };
            var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the PFX password from standard input (required)" };
            var export = new Command("export", "Export a certificate with its private key as a password-protected PFX") { thumbprint, output, passwordStdin };
            export.SetAdminAction(async (parse, client, ct) =>
            {
                if (!parse.GetValue(passwordStdin))
                {
                    throw new CliException("a private key is exported only with a password: give it on standard input with --password-stdin");
                }

                var password = await CliSupport.ReadPasswordFromStdinAsync();
                var file = await client.PostAsync<FileContent>($"certificates/{AdminClient.Escape(parse.GetValue(thumbprint)!)}/export", new PasswordRequest(password), ct);
                await WritePrivateFileAsync(parse.GetValue(output)!, Convert.FromBase64String(file.Base64), ct);
                CliSupport.Print(parse, new { written = parse.GetValue(output) }, r => [[$"written {r.written}"]]);
            });
            cert.Subcommands.Add(export);
        }

        {
            var list = new Command("list", "List every stored certificate");
            list.SetAdminAction(async (parse, client, ct) =>
            {
                var certificates = await client.GetAsync<List<CertificateInfo>>("certificates", ct);
                CliSupport.Print(parse, certificates, cs => cs.Select(c => new[]
                {
                    c.Thumbprint, c.Kind.ToString(), c.FriendlyName, c.Subject, c.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    string.Join(",", c.VirtualServerIds),
                }), ["THUMBPRINT", "KIND", "FRIENDLY NAME", "SUBJECT", "EXPIRES", "VIRTUAL SERVERS"]);
            });
            cert.Subcommands.Add(list);
        }

        {
            var days = new Option<int>("--days") { DefaultValueFactory = _ => 30 };
            var expiring = new Command("expiring", "Certificates in use that expire within N days, and the CRL's next update") { days };
            expiring.SetAdminAction(async (parse, client, ct) =>
            {
                var report = await client.GetAsync<ExpiryReport>($"certificates/expiring?days={parse.GetValue(days)}", ct);
                CliSupport.Print(parse, report, r => r.Certificates.Select(c => new[] { c.Expired ? "EXPIRED" : "expires", c.NotAfter.ToString("u", CultureInfo.InvariantCulture), c.FriendlyName, c.Subject, c.Thumbprint }));
            });
            cert.Subcommands.Add(expiring);
        }

        return cert;
    }

    private static Command Ca()
    {
        var ca = new Command("ca", "The organization's certification authority: export, issue, revoke, CRL, requests, trusted roots, subordinate CA");

        {
            var show = new Command("show", "Show the CA");
            show.SetAdminAction(async (parse, client, ct) =>
            {
                var info = await client.GetAsync<CaInfo>("ca", ct);
                CliSupport.Print(parse, info, i => [[$"{i.Kind} CA ({i.Mode}): {i.Subject}, thumbprint {i.Thumbprint}, expires {i.NotAfter:u}, CRL number {i.CrlNumber}"]]);
            });
            ca.Subcommands.Add(show);
        }

        {
            var output = new Option<string?>("--out") { Description = "File to write (default: standard output)" };
            var chain = new Option<bool>("--chain") { Description = "The whole CA chain (subordinate CA and external root)" };
            var export = new Command("export", "Export the organization's CA certificate (PEM) for clients to trust") { output, chain };
            export.SetAdminAction(async (parse, client, ct) =>
            {
                CliSupport.EnsureWritable(parse.GetValue(output));
                var pem = Encoding.UTF8.GetString(await client.GetBytesAsync(parse.GetValue(chain) ? "ca/chain.pem" : "ca/root.pem", ct));
                await WriteOrPrintAsync(parse.GetValue(output), pem, ct);
            });
            ca.Subcommands.Add(export);
        }

        {
            var names = new Option<string[]>("--name") { Description = "Server certificate: DNS names / IP addresses", AllowMultipleArgumentsPerToken = true };
            var user = new Option<string?>("--user") { Description = "User certificate for this mail address (rfc822Name)" };
            var displayName = new Option<string?>("--display-name");
            var key = new Option<string?>("--key") { Description = "rsa2048|rsa3072|rsa4096|p256|p384" };
            var output = new Option<string?>("--out") { Description = "Write the certificate (PEM), or with --password-stdin a PFX with its key" };
            var passwordStdin = new Option<bool>("--password-stdin") { Description = "Write a password-protected PFX (certificate and key) to --out" };
            var issue = new Command("issue", "Issue a server or user certificate from the organization's CA") { names, user, displayName, key, output, passwordStdin };
            issue.SetAdminAction(async (parse, client, ct) =>
            {
                var email = parse.GetValue(user);
                var serverNames = parse.GetValue(names);
                if ((email is null) == (serverNames is null || serverNames.Length == 0))
                {
                    throw new CliException("give either --name NAME... for a server certificate or --user ADDRESS for a user certificate");
                }

                CliSupport.EnsureWritable(parse.GetValue(output));
                var issued = await client.PostAsync<IssuedCertificate>("ca/issue", new IssueRequest(serverNames, email, parse.GetValue(displayName), null, parse.GetValue(key)), ct);
                var file = parse.GetValue(output);
                if (file is not null && parse.GetValue(passwordStdin))
                {
                    var password = await CliSupport.ReadPasswordFromStdinAsync();
                    var pfx = await client.PostAsync<FileContent>($"certificates/{issued.Thumbprint}/export", new PasswordRequest(password), ct);
                    await WritePrivateFileAsync(file, Convert.FromBase64String(pfx.Base64), ct);
                }
                else if (file is not null)
                {
                    await File.WriteAllTextAsync(file, issued.CertificatePem, ct);
                }

                CliSupport.Print(parse, issued, i => [[$"issued serial {i.SerialNumber}, thumbprint {i.Thumbprint}, expires {i.NotAfter:u}" + (file is null ? "" : $", written to {file}")]]);
            });
            ca.Subcommands.Add(issue);
        }

        {
            var serial = new Argument<string>("serial");
            var reason = new Option<string?>("--reason") { Description = "KeyCompromise, Superseded, CessationOfOperation, AffiliationChanged, CertificateHold, Unspecified…" };
            var revoke = new Command("revoke", "Revoke a certificate the CA issued; it appears in the next CRL") { serial, reason };
            revoke.SetAdminAction(async (parse, client, ct) =>
            {
                await client.PostAsync<object>("ca/revoke", new RevokeRequest(parse.GetValue(serial)!, parse.GetValue(reason)), ct);
                CliSupport.Print(parse, new { revoked = parse.GetValue(serial) }, r => [[$"revoked {r.revoked}"]]);
            });
            ca.Subcommands.Add(revoke);
        }

        {
            var output = new Option<string>("--out") { Description = "CRL file (DER)", DefaultValueFactory = _ => "ca.crl" };
            var crl = new Command("crl", "Publish a new CRL now and write it") { output };
            crl.SetAdminAction(async (parse, client, ct) =>
            {
                // Publishing spends a CRL number: not for a file that cannot be written.
                CliSupport.EnsureWritable(parse.GetValue(output));
                var file = await client.PostAsync<FileContent>("ca/crl", null, ct);
                await File.WriteAllBytesAsync(parse.GetValue(output)!, Convert.FromBase64String(file.Base64), ct);
                CliSupport.Print(parse, new { written = parse.GetValue(output) }, r => [[$"CRL written to {r.written}"]]);
            });
            ca.Subcommands.Add(crl);
        }

        {
            var issued = new Command("issued", "The CA's issuance log");
            issued.SetAdminAction(async (parse, client, ct) =>
            {
                var list = await client.GetAsync<List<IssuedCertificateInfo>>("ca/issued", ct);
                CliSupport.Print(parse, list, l => l.Select(i => new[] { i.SerialNumber, i.Profile, i.Subject, i.Issued.ToString("u", CultureInfo.InvariantCulture), i.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), i.Revoked ? "REVOKED " + i.RevocationReason : "" }),
                    ["SERIAL", "PROFILE", "SUBJECT", "ISSUED", "EXPIRES", "STATE"]);
            });
            ca.Subcommands.Add(issued);
        }

        {
            var file = new Option<string>("--file") { Required = true, Description = "PKCS#10 request (PEM)" };
            var clientProfile = new Option<bool>("--client") { Description = "Issue as a user (client) certificate" };
            var output = new Option<string?>("--out") { Description = "Where to write the issued certificate" };
            var submit = new Command("submit", "Submit a PKCS#10 request to the CA (issued at once in enterprise mode, held in standalone mode)") { file, clientProfile, output };
            submit.SetAdminAction(async (parse, client, ct) =>
            {
                var pem = await File.ReadAllTextAsync(parse.GetValue(file)!, ct);
                CliSupport.EnsureWritable(parse.GetValue(output));
                var result = await client.PostAsync<CaSubmission>("ca/requests", new SubmitRequest(pem, parse.GetValue(clientProfile), Environment.UserName), ct);
                if (result.Certificate is not null && parse.GetValue(output) is { } path)
                {
                    await File.WriteAllTextAsync(path, result.Certificate.CertificatePem, ct);
                }

                CliSupport.Print(parse, result, r => [[r.Certificate is null
                    ? $"request {r.RequestId} is {r.Status}" + (parse.GetValue(output) is { } later ? $"; once approved: postern ca retrieve {r.RequestId} --out {later}" : "")
                    : $"issued serial {r.Certificate.SerialNumber}"]]);
            });
            ca.Subcommands.Add(submit);
        }

        {
            var id = new Argument<long>("id") { Description = "The request's number, as ca submit and ca requests show it" };
            var output = new Option<string?>("--out") { Description = "Where to write the certificate once it is issued (PEM)" };
            var retrieve = new Command("retrieve", "The status of a request held at the CA, and its certificate once approved") { id, output };
            retrieve.SetAdminAction(async (parse, client, ct) =>
            {
                CliSupport.EnsureWritable(parse.GetValue(output));
                var status = await client.GetAsync<CaRequestStatus>($"ca/requests/{parse.GetValue(id)}", ct);
                if (status.CertificatePem is null)
                {
                    if (parse.GetValue(output) is not null)
                    {
                        throw new CliException($"request {status.Request.Id} is {status.Request.Status}{(status.Request.Reason is { } why ? ": " + why : "")}; no certificate to write");
                    }
                }
                else if (parse.GetValue(output) is { } path)
                {
                    await File.WriteAllTextAsync(path, status.CertificatePem, ct);
                }

                CliSupport.Print(parse, status, s => [[s.CertificatePem is null
                    ? $"request {s.Request.Id} is {s.Request.Status}{(s.Request.Reason is { } why ? ": " + why : "")}"
                    : $"request {s.Request.Id} is {s.Request.Status}: serial {s.Request.SerialNumber}{(parse.GetValue(output) is { } written ? ", written to " + written : "")}"]]);
            });
            ca.Subcommands.Add(retrieve);
        }

        {
            var requests = new Command("requests", "Requests held at the CA (standalone mode)");
            requests.SetAdminAction(async (parse, client, ct) =>
            {
                var list = await client.GetAsync<List<CaRequestInfo>>("ca/requests", ct);
                CliSupport.Print(parse, list, l => l.Select(r => new[] { r.Id.ToString(CultureInfo.InvariantCulture), r.Status, r.Profile, r.Subject, r.Requester ?? "", r.Submitted.ToString("u", CultureInfo.InvariantCulture) }),
                    ["ID", "STATUS", "PROFILE", "SUBJECT", "REQUESTER", "SUBMITTED"]);
            });
            ca.Subcommands.Add(requests);
        }

        {
            var id = new Argument<long>("id");
            var output = new Option<string?>("--out") { Description = "Where to write the issued certificate (PEM)" };
            var approve = new Command("approve", "Approve a held request and issue its certificate") { id, output };
            approve.SetAdminAction(async (parse, client, ct) =>
            {
                CliSupport.EnsureWritable(parse.GetValue(output));
                var issued = await client.PostAsync<IssuedCertificate>($"ca/requests/{parse.GetValue(id)}/approve", null, ct);
                if (parse.GetValue(output) is { } path)
                {
                    await File.WriteAllTextAsync(path, issued.CertificatePem, ct);
                }

                CliSupport.Print(parse, issued, i => [[$"issued serial {i.SerialNumber}"]]);
            });
            ca.Subcommands.Add(approve);
        }

        {
            var id = new Argument<long>("id");
            var reason = new Option<string?>("--reason");
            var deny = new Command("deny", "Deny a held request") { id, reason };
            deny.SetAdminAction(async (parse, client, ct) =>
            {
                await client.PostAsync<object>($"ca/requests/{parse.GetValue(id)}/deny", new DenyRequest(parse.GetValue(reason)), ct);
                CliSupport.Print(parse, new { denied = parse.GetValue(id) }, r => [[$"request {r.denied} denied"]]);
            });
            ca.Subcommands.Add(deny);
        }

        {
            var mode = new Argument<CaMode>("mode") { Description = "enterprise (issue online requests at once) or standalone (hold them for approval)" };
            var setMode = new Command("mode", "Set the CA's mode") { mode };
            setMode.SetAdminAction(async (parse, client, ct) =>
            {
                await client.PutAsync<object>("ca/mode", new CaModeRequest(parse.GetValue(mode)), ct);
                CliSupport.Print(parse, new { mode = parse.GetValue(mode) }, r => [[$"CA mode is {r.mode}"]]);
            });
            ca.Subcommands.Add(setMode);
        }

        {
            var trust = new Command("trust", "Roots the organization trusts besides its own CA");
            var file = new Option<string>("--file") { Required = true, Description = "Root certificate (PEM or DER)" };
            var friendly = new Option<string?>("--friendly-name");
            var add = new Command("add", "Trust an external root") { file, friendly };
            add.SetAdminAction(async (parse, client, ct) =>
            {
                var bytes = await ReadFileAsync(parse.GetValue(file)!, ct);
                var added = await client.PostAsync<List<CertificateInfo>>("ca/trusted-roots", new ImportRequest(Convert.ToBase64String(bytes), null, parse.GetValue(friendly)), ct);
                CliSupport.Print(parse, added, a => a.Select(c => new[] { $"trusted {c.Subject} ({c.Thumbprint})" }));
            });
            var list = new Command("list", "List trusted roots (PEM, each under a '# subject (thumbprint)' line)");
            list.SetAdminAction(async (parse, client, ct) =>
            {
                var roots = await client.GetAsync<List<string>>("ca/trusted-roots", ct);

                // 'ca trust remove' takes the thumbprint: name it here. Text before BEGIN is allowed in PEM (RFC 7468 §2).
                CliSupport.Print(parse, roots, r => r.Select(p =>
                {
                    using var root = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(p);
                    return new[] { $"# {root.Subject} ({Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(root.RawData))})\n{p.TrimEnd()}" };
                }));
            });
            var thumbprint = new Option<string>("--thumbprint") { Required = true, Description = "SHA-256 thumbprint of the root (as 'ca trust add' printed it)" };
            var remove = new Command("remove", "Stop trusting an external root (peers and client certificates that chain only to it are refused from then on)") { thumbprint };
            remove.SetAdminAction(async (parse, client, ct) =>
            {
                var wanted = parse.GetValue(thumbprint)!.Replace(":", "", StringComparison.Ordinal).Trim();
                var certificates = await client.GetAsync<List<CertificateInfo>>("certificates", ct);
                var root = certificates.FirstOrDefault(c => c.Kind == CertificateKind.TrustedRoot && c.Thumbprint.Equals(wanted, StringComparison.OrdinalIgnoreCase))
                    ?? throw new CliException($"no trusted root with thumbprint {wanted} ('postern ca trust list' shows them; the organization's own CA is not removed this way)");
                await client.DeleteAsync("certificates/" + AdminClient.Escape(root.Thumbprint), ct);
                CliSupport.Print(parse, new { removed = root.Thumbprint, root.Subject }, r => [[$"no longer trusted: {r.Subject} ({r.removed})"]]);
            });
            trust.Subcommands.Add(add);
            trust.Subcommands.Add(list);
            trust.Subcommands.Add(remove);
            ca.Subcommands.Add(trust);
        }

        {
            var subordinate = new Command("subordinate", "Make the organization's CA a subordinate CA under an external root");
            var cn = new Option<string>("--cn") { Required = true, Description = "The CA's common name" };
            var org = new Option<string>("--org") { Required = true };
            var country = new Option<string?>("--country");
            var key = new Option<string?>("--key");
            var output = new Option<string>("--out") { DefaultValueFactory = _ => "subca.csr" };
            var request = new Command("request", "Create the CA's own certificate request for the external root to sign") { cn, org, country, key, output };
            request.SetAdminAction(async (parse, client, ct) =>
            {
                CliSupport.EnsureWritable(parse.GetValue(output));
                var csr = Encoding.UTF8.GetString(await PostTextAsync(client, "ca/subordinate/request", new SubordinateRequest(parse.GetValue(cn)!, parse.GetValue(org)!, parse.GetValue(country), parse.GetValue(key)), ct));
                await File.WriteAllTextAsync(parse.GetValue(output)!, csr, ct);
                CliSupport.Print(parse, new { written = parse.GetValue(output) }, r => [[$"CA request written to {r.written}; have the external root sign it, then 'postern ca subordinate install --file subca.cer'"]]);
            });
            var file = new Option<string>("--file") { Required = true, Description = "The signed CA certificate (.cer, PEM chain or .p7b)" };
            var install = new Command("install", "Install the signed CA certificate with its chain") { file };
            install.SetAdminAction(async (parse, client, ct) =>
            {
                var bytes = await ReadFileAsync(parse.GetValue(file)!, ct);
                var info = await client.PostAsync<CaInfo>("ca/subordinate/install", new FileContent(Convert.ToBase64String(bytes)), ct);
                CliSupport.Print(parse, info, i => [[$"the CA is now {i.Kind}: {i.Subject}"]]);
            });
            subordinate.Subcommands.Add(request);
            subordinate.Subcommands.Add(install);
            ca.Subcommands.Add(subordinate);
        }

        return ca;
    }

    /// <summary>`postern user cert map|list|unmap`: certificates that identify people, mapped to logon accounts.</summary>
    public static Command UserCertificates()
    {
        var cert = new Command("cert", "Certificates that identify a user (certificate logon with SASL EXTERNAL)");
        var address = new Argument<string>("address");
        var thumbprint = new Option<string?>("--thumbprint") { Description = "SHA-256 thumbprint (64 hex digits)" };
        var file = new Option<string?>("--file") { Description = "The user's certificate (PEM or DER); its thumbprint is mapped" };
        var issuer = new Option<string?>("--issuer");
        var serial = new Option<string?>("--serial");
        var map = new Command("map", "Map a certificate to a user (one-to-one)") { address, thumbprint, file, issuer, serial };
        map.SetAdminAction(async (parse, client, ct) =>
        {
            var t = parse.GetValue(thumbprint);
            if (parse.GetValue(file) is { } path)
            {
                var bytes = await ReadFileAsync(path, ct);
                System.Security.Cryptography.X509Certificates.X509Certificate2 certificate;
                try
                {
                    certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(bytes[0] == '-' ? PemToDer(bytes) : bytes);
                }
                catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
                {
                    throw new CliException($"{path} is not a certificate (PEM or DER): {ex.Message}");
                }

                using var loaded = certificate;
                if (certificate.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension>().Any(c => c.CertificateAuthority))
                {
                    // A CA certificate identifies no one; mapping it usually means the wrong file was given.
                    throw new CliException($"{path} is a CA certificate; give the user's own certificate");
                }

                // The PKI maps by SHA-256 thumbprint (X509Certificate2.Thumbprint is SHA-1).
                t = certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256);
            }

            if (t is null && (parse.GetValue(issuer) is null || parse.GetValue(serial) is null))
            {
                throw new CliException("give --thumbprint, --file, or --issuer with --serial");
            }

            await client.PostAsync<object>("certificate-mappings", new MappingRequest(parse.GetValue(address)!, t, parse.GetValue(issuer), parse.GetValue(serial)), ct);
            CliSupport.Print(parse, new { mapped = parse.GetValue(address), thumbprint = t }, r => [[$"mapped {r.thumbprint ?? "certificate"} to {r.mapped}"]]);
        });
        var list = new Command("list", "List certificate mappings");
        list.SetAdminAction(async (parse, client, ct) =>
        {
            var mappings = await client.GetAsync<List<MappingView>>("certificate-mappings", ct);
            CliSupport.Print(parse, mappings, ms => ms.Select(m => new[] { m.Id.ToString(CultureInfo.InvariantCulture), m.Address, m.Thumbprint ?? $"{m.Issuer} #{m.SerialNumber}" }), ["ID", "USER", "CERTIFICATE"]);
        });
        var id = new Argument<long>("id");
        var unmap = new Command("unmap", "Remove a mapping") { id };
        unmap.SetAdminAction(async (parse, client, ct) =>
        {
            await client.DeleteAsync($"certificate-mappings/{parse.GetValue(id)}", ct);
            CliSupport.Print(parse, new { removed = parse.GetValue(id) }, r => [[$"mapping {r.removed} removed"]]);
        });
        cert.Subcommands.Add(map);
        cert.Subcommands.Add(list);
        cert.Subcommands.Add(unmap);
        return cert;
    }

    private static string Summary(JsonElement s) =>
        $"issued to {s.GetProperty("issuedTo").GetString()} by {s.GetProperty("issuedBy").GetString()}, expires {s.GetProperty("expires").GetDateTimeOffset():u}, " +
        $"purposes {string.Join(", ", s.GetProperty("intendedPurposes").EnumerateArray().Select(p => p.GetString()))}, friendly name \"{s.GetProperty("friendlyName").GetString()}\", thumbprint {s.GetProperty("thumbprint").GetString()}";

    /// <summary>Where a request sent to a standalone CA stands: a denied one would otherwise look like one still waiting.</summary>
    private static string AtTheCa(PendingRequestInfo pending) => (pending.CaRequestId, pending.CaStatus) switch
    {
        (null, _) => "",
        ({ } id, "denied") => $"; denied by the CA (request {id}): {pending.CaReason ?? "no reason given"}; delete it with 'postern cert delete-pending'",
        ({ } id, "pending") => $"; waiting for approval at the CA (request {id}: 'postern ca approve {id}')",
        ({ } id, var other) => $"; request {id} at the CA: {other}",
    };

    private static async Task<byte[]> ReadFileAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"no such file: {path}");
        }

        // An empty file is a download or copy that failed: say so, not that it is not base64 or not a certificate.
        var bytes = await File.ReadAllBytesAsync(path, ct);
        return bytes.Length > 0 ? bytes : throw new CliException($"{path} is empty");
    }

    private static byte[] PemToDer(byte[] pem)
    {
        var text = Encoding.ASCII.GetString(pem);
        return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(text).RawData;
    }

    private static async Task WriteOrPrintAsync(string? path, string text, CancellationToken ct)
    {
        if (path is null)
        {
            Console.Write(text);
        }
        else
        {
            await File.WriteAllTextAsync(path, text, ct);
        }
    }

    private static async Task WritePrivateFileAsync(string path, byte[] bytes, CancellationToken ct)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await stream.WriteAsync(bytes, ct);
    }

    private static Task<byte[]> PostTextAsync(AdminClient client, string path, object body, CancellationToken ct) => client.PostRawAsync(path, body, ct);
}
