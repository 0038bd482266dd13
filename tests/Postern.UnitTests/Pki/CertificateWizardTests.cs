using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Postern.Pki;

namespace Postern.UnitTests.Pki;

public sealed class CertificateWizardTests
{
    private static readonly CertificateRequestForm Form = new()
    {
        CommonName = "smtp.example.com",
        AdditionalNames = ["mail2.example.com", "192.0.2.7"],
        Organization = "Example Org",
        OrganizationalUnit = "Messaging",
        Country = "DE",
        State = "Berlin",
        City = "Berlin",
        KeyAlgorithm = KeyAlgorithm.Rsa2048,
    };

    private static byte[] Pem(params X509Certificate2[] certificates) =>
        Encoding.ASCII.GetBytes(string.Concat(certificates.Select(c => PemEncoding.WriteString("CERTIFICATE", c.RawData) + "\n")));

    [Fact]
    public async Task The_default_friendly_name_names_the_protocol_as_the_article_does()
    {
        // KB823024: "leave the default setting of Default Protocol_Name Virtual Server", where IMAP's name is IMAP4.
        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        var pop3 = await f.AddVirtualServerAsync("Default POP3 Virtual Server", Postern.Store.ServiceProtocol.Pop3);

        var imap = await f.Pki.PrepareRequestAsync(f.ImapId, Form, default);
        var pop = await f.Pki.PrepareRequestAsync(pop3, Form, default);

        Assert.True(imap.Succeeded, imap.Error);
        Assert.Equal("Default IMAP4 Virtual Server", imap.Value!.FriendlyName);
        Assert.Equal("Default POP3 Virtual Server", pop.Value!.FriendlyName);
    }

    [Fact]
    public async Task Prepared_request_carries_every_field_and_parses_back()
    {
        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        Assert.Equal(CertificateWizardState.NoPendingRequest, (await f.Pki.GetWizardStatusAsync(f.SmtpId, default))!.State);

        var prepared = await f.Pki.PrepareRequestAsync(f.SmtpId, Form, default);

        Assert.True(prepared.Succeeded, prepared.Error);
        Assert.Equal("Default SMTP Virtual Server", prepared.Value!.FriendlyName);
        Assert.Equal("certreq.txt", prepared.Value.FileName);
        var request = CertificateRequest.LoadSigningRequestPem(prepared.Value.RequestPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        var rdns = request.SubjectName.EnumerateRelativeDistinguishedNames(reversed: false).Select(r => (r.GetSingleElementType().Value, r.GetSingleElementValue())).ToList();
        Assert.Equal(
            [("2.5.4.6", "DE"), ("2.5.4.8", "Berlin"), ("2.5.4.7", "Berlin"), ("2.5.4.10", "Example Org"), ("2.5.4.11", "Messaging"), ("2.5.4.3", "smtp.example.com")],
            rdns);
        var san = Assert.Single(request.CertificateExtensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Equal(["smtp.example.com", "mail2.example.com"], san.EnumerateDnsNames());
        Assert.Equal("192.0.2.7", san.EnumerateIPAddresses().Single().ToString());
        var eku = Assert.Single(request.CertificateExtensions.OfType<X509EnhancedKeyUsageExtension>());
        Assert.Equal("1.3.6.1.5.5.7.3.1", eku.EnhancedKeyUsages[0].Value);
        Assert.Equal(2048, request.PublicKey.GetRSAPublicKey()!.KeySize);

        var status = await f.Pki.GetWizardStatusAsync(f.SmtpId, default);
        Assert.Equal(CertificateWizardState.PendingRequest, status!.State);
        Assert.Equal([CertificateWizardAction.ProcessPendingRequest, CertificateWizardAction.DeletePendingRequest], status.AllowedActions);
    }

    [Fact]
    public async Task Openssl_verifies_the_request()
    {
        if (!OpenSsl.Available)
        {
            return;
        }

        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        var prepared = await f.Pki.PrepareRequestAsync(f.SmtpId, Form with { KeyAlgorithm = KeyAlgorithm.P384 }, default);
        var path = Path.Combine(f.Folder, "certreq.txt");
        await File.WriteAllTextAsync(path, prepared.Value!.RequestPem);

        var (exit, output) = OpenSsl.Run($"req -in \"{path}\" -text -verify -noout");

        Assert.True(exit == 0, output);
        Assert.Contains("verify OK", output, StringComparison.OrdinalIgnoreCase);
        Assert.True(output.Contains("Subject: C = DE, ST = Berlin, L = Berlin, O = Example Org, OU = Messaging, CN = smtp.example.com", StringComparison.Ordinal), output);
        Assert.Contains("DNS:smtp.example.com, DNS:mail2.example.com, IP Address:192.0.2.7", output, StringComparison.Ordinal);
        Assert.Contains("TLS Web Server Authentication", output, StringComparison.Ordinal);
        Assert.Contains("NIST CURVE: P-384", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("smtp", "DE", "not a fully qualified domain name")]
    [InlineData("-bad-.example.com", "DE", "not a fully qualified domain name")]
    [InlineData("smtp.example.com", "XX", "ISO 3166")]
    [InlineData("smtp.example.com", "DEU", "ISO 3166")]
    public async Task Bad_form_fields_are_refused_and_audited(string commonName, string country, string message)
    {
        await using var f = await PkiFixture.CreateAsync(bootstrap: false);

        var prepared = await f.Pki.PrepareRequestAsync(f.SmtpId, Form with { CommonName = commonName, Country = country }, default);

        Assert.False(prepared.Succeeded);
        Assert.Contains(message, prepared.Error, StringComparison.Ordinal);
        Assert.Equal(CertificateWizardState.NoPendingRequest, (await f.Pki.GetWizardStatusAsync(f.SmtpId, default))!.State);
        var audit = Assert.Single(await f.Pki.ListWizardAuditAsync(f.SmtpId, default));
        Assert.Equal("refused", audit.Outcome);
    }

    [Fact]
    public async Task External_CA_flow_installs_with_its_chain_and_the_selector_serves_it()
    {
        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        using var external = new ExternalCa();
        var prepared = await f.Pki.PrepareRequestAsync(f.SmtpId, Form, default);
        using var issued = external.Sign(prepared.Value!.RequestPem);

        // Without the external root trusted, the chain cannot build: refused, still pending.
        var untrusted = await f.Pki.ProcessPendingRequestAsync(f.SmtpId, issued.RawData, default);
        Assert.False(untrusted.Succeeded);
        Assert.Contains("trusted root", untrusted.Error, StringComparison.Ordinal);
        Assert.Equal(CertificateWizardState.PendingRequest, (await f.Pki.GetWizardStatusAsync(f.SmtpId, default))!.State);

        Assert.True((await f.Pki.ImportTrustedRootAsync(external.RootPem, null, default)).Succeeded);
        var installed = await f.Pki.ProcessPendingRequestAsync(f.SmtpId, CertificateFilesForTest.P7b(issued, external.Root), default);

        Assert.True(installed.Succeeded, installed.Error);
        var summary = installed.Value!;
        Assert.Equal("smtp.example.com", summary.IssuedTo);
        Assert.Equal("External Test Root", summary.IssuedBy);
        Assert.Equal(["Server Authentication"], summary.IntendedPurposes);
        Assert.Equal("Default SMTP Virtual Server", summary.FriendlyName);
        Assert.Equal(issued.GetCertHashString(HashAlgorithmName.SHA256), summary.Thumbprint);
        Assert.Equal(CertificateWizardState.Installed, (await f.Pki.GetWizardStatusAsync(f.SmtpId, default))!.State);

        var context = f.Pki.Selector.Select(f.SmtpId, "smtp.example.com");
        Assert.Equal(issued.Thumbprint, context!.TargetCertificate.Thumbprint);
        Assert.Null(f.Pki.Selector.Select(f.ImapId, "smtp.example.com"));
        Assert.Equal(issued.Thumbprint, await PkiBootstrapTests.HandshakeAsync(context, "smtp.example.com", external.Root));

        var steps = (await f.Pki.ListWizardAuditAsync(f.SmtpId, default)).Select(a => (a.Step, a.FromState, a.ToState, a.Outcome)).ToList();
        Assert.Equal(
            [
                ("PrepareRequest", "NoPendingRequest", "PendingRequest", "ok"),
                ("ProcessPendingRequest", "PendingRequest", "PendingRequest", "refused"),
                ("ProcessPendingRequest", "PendingRequest", "Installed", "ok"),
            ],
            steps);
    }

    [Fact]
    public async Task Openssl_signed_PEM_answer_installs()
    {
        if (!OpenSsl.Available)
        {
            return;
        }

        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        var prepared = await f.Pki.PrepareRequestAsync(f.SmtpId, Form with { KeyAlgorithm = KeyAlgorithm.P256 }, default);
        var dir = f.Folder;
        Assert.Equal(0, OpenSsl.Run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 30 -subj \"/CN=OpenSSL Test Root\" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign", dir).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(dir, "certreq.txt"), prepared.Value!.RequestPem);
        await File.WriteAllTextAsync(Path.Combine(dir, "ext.cnf"), "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:smtp.example.com,DNS:mail2.example.com,IP:192.0.2.7\n");
        var (exit, output) = OpenSsl.Run("x509 -req -in certreq.txt -CA ca.pem -CAkey ca.key -CAcreateserial -out certnew.cer -days 20 -extfile ext.cnf", dir);
        Assert.True(exit == 0, output);

        Assert.True((await f.Pki.ImportTrustedRootAsync(await File.ReadAllBytesAsync(Path.Combine(dir, "ca.pem")), "OpenSSL root", default)).Succeeded);
        var installed = await f.Pki.ProcessPendingRequestAsync(f.SmtpId, await File.ReadAllBytesAsync(Path.Combine(dir, "certnew.cer")), default);

        Assert.True(installed.Succeeded, installed.Error);
        Assert.Equal("OpenSSL Test Root", installed.Value!.IssuedBy);
    }

    [Fact]
    public async Task Certificate_for_another_key_is_refused()
    {
        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        using var external = new ExternalCa();
        await f.Pki.ImportTrustedRootAsync(external.RootPem, null, default);
        await f.Pki.PrepareRequestAsync(f.SmtpId, Form, default);
        using var otherKey = RSA.Create(2048);
        var otherRequest = new CertificateRequest("CN=smtp.example.com", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        using var issued = external.Sign(otherRequest, dnsNames: ["smtp.example.com", "mail2.example.com"]);

        var result = await f.Pki.ProcessPendingRequestAsync(f.SmtpId, Pem(issued), default);

        Assert.False(result.Succeeded);
        Assert.Contains("public key does not match", result.Error, StringComparison.Ordinal);
        Assert.Equal(CertificateWizardState.PendingRequest, (await f.Pki.GetWizardStatusAsync(f.SmtpId, default))!.State);
    }

    [Fact]
    public async Task Expired_or_not_yet_valid_certificate_is_refused()
    {
        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        using var external = new ExternalCa();
        await f.Pki.ImportTrustedRootAsync(external.RootPem, null, default);
        var prepared = await f.Pki.PrepareRequestAsync(f.SmtpId, Form, default);
        using var expired = external.Sign(prepared.Value!.RequestPem, notBefore: DateTimeOffset.UtcNow.AddDays(-9), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        using var future = external.Sign(prepared.Value!.RequestPem, notBefore: DateTimeOffset.UtcNow.AddDays(2), notAfter: DateTimeOffset.UtcNow.AddDays(20));

        var expiredResult = await f.Pki.ProcessPendingRequestAsync(f.SmtpId, expired.RawData, default);
        var futureResult = await f.Pki.ProcessPendingRequestAsync(f.SmtpId, future.RawData, default);

        Assert.Contains("expired on", expiredResult.Error, StringComparison.Ordinal);
        Assert.Contains("not valid until", futureResult.Error, StringComparison.Ordinal);
        Assert.Null(f.Pki.Selector.Select(f.SmtpId, null));
    }

    [Fact]
    public async Task Certificate_without_serverAuth_or_without_the_common_name_is_refused()
    {
        await using var f = await PkiFixture.CreateAsync(bootstrap: false);
        using var external = new ExternalCa();
        await f.Pki.ImportTrustedRootAsync(external.RootPem, null, default);
        var prepared = await f.Pki.PrepareRequestAsync(f.SmtpId, Form, default);
        using var clientOnly = external.Sign(prepared.Value!.RequestPem, eku: "1.3.6.1.5.5.7.3.2");
        using var noEku = external.Sign(prepared.Value!.RequestPem, eku: null);
        using var wrongName = external.Sign(prepared.Value!.RequestPem, dnsNames: ["other.example.com"]);

        Assert.Contains("not for server authentication", (await f.Pki.ProcessPendingRequestAsync(f.SmtpId, clientOnly.RawData, default)).Error, StringComparison.Ordinal);
        Assert.Contains("extension is missing", (await f.Pki.ProcessPendingRequestAsync(f.SmtpId, noEku.RawData, default)).Error, StringComparison.Ordinal);
        Assert.Contains("does not name smtp.example.com", (await f.Pki.ProcessPendingRequestAsync(f.SmtpId, wrongName.RawData, default)).Error, StringComparison.Ordinal);
        Assert.Contains("not a certificate", (await f.Pki.ProcessPendingRequestAsync(f.SmtpId, [1, 2, 3], default)).Error, StringComparison.Ordinal);
        Assert.Equal(CertificateWizardState.PendingRequest, (await f.Pki.GetWizardStatusAsync(f.SmtpId, default))!.State);
    }

    [Fact]
    public async Task A_failed_install_leaves_the_old_certificate_serving()
    {
        await using var f = await PkiFixture.CreateAsync();
        var before = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate.Thumbprint;
        using var external = new ExternalCa();
        await f.Pki.ImportTrustedRootAsync(external.RootPem, null, default);
        var prepared = await f.Pki.PrepareRequestAsync(f.SmtpId, Form, default);
        Assert.True(prepared.Succeeded, prepared.Error);
        using var bad = external.Sign(prepared.Value!.RequestPem, eku: "1.3.6.1.5.5.7.3.2");

        Assert.False((await f.Pki.ProcessPendingRequestAsync(f.SmtpId, bad.RawData, default)).Succeeded);
        Assert.Equal(before, f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate.Thumbprint);

        using var good = external.Sign(prepared.Value!.RequestPem);
        Assert.True((await f.Pki.ProcessPendingRequestAsync(f.SmtpId, good.RawData, default)).Succeeded);
        Assert.Equal(good.Thumbprint, f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate.Thumbprint);
        Assert.Equal(before, f.Pki.Selector.Select(f.ImapId, null)!.TargetCertificate.Thumbprint);
    }

    [Fact]
    public async Task Pending_state_blocks_other_actions_and_delete_returns_to_the_previous_state()
    {
        await using var f = await PkiFixture.CreateAsync();
        Assert.Equal(CertificateWizardState.Installed, (await f.Pki.GetWizardStatusAsync(f.SmtpId, default))!.State);
        await f.Pki.PrepareRequestAsync(f.SmtpId, Form, default);

        var renew = await f.Pki.RenewCertificateAsync(f.SmtpId, default);
        Assert.False(renew.Succeeded);
        Assert.Contains("process or delete the pending request first", renew.Error, StringComparison.Ordinal);
        Assert.False((await f.Pki.PrepareRequestAsync(f.SmtpId, Form, default)).Succeeded);

        Assert.True((await f.Pki.DeletePendingRequestAsync(f.SmtpId, default)).Succeeded);
        Assert.Equal(CertificateWizardState.Installed, (await f.Pki.GetWizardStatusAsync(f.SmtpId, default))!.State);
        Assert.False((await f.Pki.DeletePendingRequestAsync(f.SmtpId, default)).Succeeded);
    }

    [Fact]
    public async Task Enterprise_online_CA_issues_and_installs_in_one_step()
    {
        await using var f = await PkiFixture.CreateAsync();
        var nntp = await f.AddVirtualServerAsync("Default NNTP Virtual Server", Postern.Store.ServiceProtocol.Nntp);

        var outcome = await f.Pki.SubmitRequestToOnlineCaAsync(nntp, Form with { CommonName = "news.example.com", AdditionalNames = [] }, default);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(CertificateWizardState.Installed, outcome.Value!.State);
        Assert.Equal("Default NNTP Virtual Server", outcome.Value.Installed!.FriendlyName);
        var leaf = f.Pki.Selector.Select(nntp, "news.example.com")!.TargetCertificate;
        Assert.Contains("CN=news.example.com", leaf.Subject, StringComparison.Ordinal);
        Assert.Contains(await f.Pki.ListIssuedAsync(default), i => i.SerialNumber == leaf.SerialNumber && i.Profile == "server");
    }

    [Fact]
    public async Task Standalone_online_CA_holds_the_request_until_approved()
    {
        await using var f = await PkiFixture.CreateAsync(mode: CaMode.Standalone);
        var pop = await f.AddVirtualServerAsync("Default POP3 Virtual Server", Postern.Store.ServiceProtocol.Pop3);

        var outcome = await f.Pki.SubmitRequestToOnlineCaAsync(pop, Form with { CommonName = "pop.example.com", AdditionalNames = [] }, default);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(CertificateWizardState.PendingRequest, outcome.Value!.State);
        var held = Assert.Single(await f.Pki.ListCaRequestsAsync(default));
        Assert.Equal("pending", held.Status);
        Assert.Null(f.Pki.Selector.Select(pop, null));

        var approved = await f.Pki.ApproveCaRequestAsync(held.Id, default);

        Assert.True(approved.Succeeded, approved.Error);
        Assert.Equal(CertificateWizardState.Installed, (await f.Pki.GetWizardStatusAsync(pop, default))!.State);
        Assert.Equal(approved.Value!.SerialNumber, f.Pki.Selector.Select(pop, "pop.example.com")!.TargetCertificate.SerialNumber);
        Assert.False((await f.Pki.ApproveCaRequestAsync(held.Id, default)).Succeeded);
    }

    [Fact]
    public async Task Standalone_denial_is_reported_in_the_status()
    {
        await using var f = await PkiFixture.CreateAsync(mode: CaMode.Standalone);
        var pop = await f.AddVirtualServerAsync("Default POP3 Virtual Server", Postern.Store.ServiceProtocol.Pop3);
        var outcome = await f.Pki.SubmitRequestToOnlineCaAsync(pop, Form with { CommonName = "pop.example.com", AdditionalNames = [] }, default);

        Assert.True((await f.Pki.DenyCaRequestAsync(outcome.Value!.CaRequestId!.Value, "not ours", default)).Succeeded);

        var status = await f.Pki.GetWizardStatusAsync(pop, default);
        Assert.Equal("denied", status!.Pending!.CaStatus);
        Assert.Equal("not ours", status.Pending.CaReason);
        Assert.True((await f.Pki.DeletePendingRequestAsync(pop, default)).Succeeded);
        Assert.Equal(CertificateWizardState.NoPendingRequest, (await f.Pki.GetWizardStatusAsync(pop, default))!.State);
    }

    [Fact]
    public async Task Renew_makes_a_new_key_for_the_same_names_everywhere_the_old_one_served()
    {
        await using var f = await PkiFixture.CreateAsync();
        var old = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate;

        var renewed = await f.Pki.RenewCertificateAsync(f.SmtpId, default);

        Assert.True(renewed.Succeeded, renewed.Error);
        var smtp = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate;
        var imap = f.Pki.Selector.Select(f.ImapId, null)!.TargetCertificate;
        Assert.NotEqual(old.Thumbprint, smtp.Thumbprint);
        Assert.Equal(smtp.Thumbprint, imap.Thumbprint);
        Assert.NotEqual(old.PublicKey.EncodedKeyValue.RawData, smtp.PublicKey.EncodedKeyValue.RawData);
        Assert.Equal(old.Subject, smtp.Subject);
        Assert.Equal(
            old.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames(),
            smtp.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
    }

    [Fact]
    public async Task Pfx_export_and_import_round_trip_and_wrong_password_is_refused()
    {
        await using var f = await PkiFixture.CreateAsync();
        var source = f.Pki.Selector.Select(f.SmtpId, null)!.TargetCertificate;
        var thumbprint = source.GetCertHashString(HashAlgorithmName.SHA256);
        Assert.False((await f.Pki.ExportPfxAsync(thumbprint, "", default)).Succeeded);
        var pfx = await f.Pki.ExportPfxAsync(thumbprint, "s3cret!", default);
        Assert.True(pfx.Succeeded, pfx.Error);

        await using var other = await PkiFixture.CreateAsync(bootstrap: false);
        using var root = X509Certificate2.CreateFromPem((await f.Pki.ExportRootPemAsync(default))!);
        await other.Pki.ImportTrustedRootAsync(root.RawData, null, default);

        var wrong = await other.Pki.ImportPfxAsync(other.SmtpId, pfx.Value!, "nope", null, default);
        Assert.False(wrong.Succeeded);
        Assert.Contains("password", wrong.Error, StringComparison.Ordinal);

        var imported = await other.Pki.ImportPfxAsync(other.SmtpId, pfx.Value!, "s3cret!", null, default);
        Assert.True(imported.Succeeded, imported.Error);
        Assert.Equal(thumbprint, imported.Value!.Thumbprint);
        Assert.Equal("Default SMTP Virtual Server", imported.Value.FriendlyName);
        Assert.Equal(source.Thumbprint, other.Pki.Selector.Select(other.SmtpId, null)!.TargetCertificate.Thumbprint);
    }

    [Fact]
    public async Task Assign_existing_as_SNI_extra_then_remove_back_to_no_certificate()
    {
        await using var f = await PkiFixture.CreateAsync();
        var extra = await f.Pki.IssueServerCertificateAsync(["imap.example.org"], "IMAP alt", null, default);
        Assert.True(extra.Succeeded, extra.Error);
        var defaultThumbprint = f.Pki.Selector.Select(f.ImapId, null)!.TargetCertificate.Thumbprint;

        var assigned = await f.Pki.AssignCertificateAsync(f.ImapId, extra.Value!.Thumbprint, makeDefault: false, default);

        Assert.True(assigned.Succeeded, assigned.Error);
        Assert.Equal(defaultThumbprint, f.Pki.Selector.Select(f.ImapId, "mail.example.com")!.TargetCertificate.Thumbprint);
        Assert.Contains("imap.example.org", f.Pki.Selector.Select(f.ImapId, "imap.example.org")!.TargetCertificate.Subject, StringComparison.Ordinal);

        Assert.True((await f.Pki.RemoveCertificateAsync(f.ImapId, null, default)).Succeeded);
        Assert.Contains("imap.example.org", f.Pki.Selector.Select(f.ImapId, "mail.example.com")!.TargetCertificate.Subject, StringComparison.Ordinal);
        Assert.True((await f.Pki.RemoveCertificateAsync(f.ImapId, null, default)).Succeeded);
        Assert.Null(f.Pki.Selector.Select(f.ImapId, null));
        Assert.Equal(CertificateWizardState.NoPendingRequest, (await f.Pki.GetWizardStatusAsync(f.ImapId, default))!.State);
        Assert.False((await f.Pki.RemoveCertificateAsync(f.ImapId, null, default)).Succeeded);
    }
}

internal static class CertificateFilesForTest
{
    public static byte[] P7b(params X509Certificate2[] certificates) => CertificateFiles.WritePkcs7(certificates);
}
