using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Pki;

/// <summary>
/// Certificates that identify people, end to end against `postern serve`: the CA issues Alice a user
/// certificate (PFX), the admin maps it to her account, and she logs on with SASL EXTERNAL to SMTP,
/// POP3, IMAP4 and NNTP (raw TLS clients and curl); revoked, foreign and expired certificates are refused.
/// </summary>
public sealed class UserCertificateLogonTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private const string Alice = "alice@example.test";
    private const string PfxPassword = "pfx-secret";

    /// <summary>Virtual server, implicit TLS port, protocol.</summary>
    private static readonly (string VirtualServer, int Port, string Protocol)[] Services =
    [
        ("Client Submission", 465, "smtp"),
        ("Default POP3 Virtual Server", 995, "pop3"),
        ("Default IMAP4 Virtual Server", 993, "imap"),
        ("Default NNTP Virtual Server", 563, "nntp"),
    ];

    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task IssuedMappedCertificateLogsOnEverywhereUntilRevoked()
    {
        var work = await PrepareAsync();
        var pfx = Path.Combine(work, "alice.pfx");
        var issued = await _server.CliAsync(PfxPassword + "\n", "ca", "issue", "--user", Alice, "--out", pfx, "--password-stdin", "--json");
        Assert.True(issued.ExitCode == 0, issued.Error);
        using var issuedJson = JsonDocument.Parse(issued.Output);
        var serial = issuedJson.RootElement.GetProperty("serialNumber").GetString()!;

        // What the user gets is a PFX with the key; OpenSSL reads it (the independent check of the export) and gives curl its PEM files.
        var pem = Path.Combine(work, "alice.pem");
        var key = Path.Combine(work, "alice.key");
        var split = await PosternProcess.RunAsync("openssl", ["pkcs12", "-in", pfx, "-passin", "pass:" + PfxPassword, "-nokeys", "-clcerts", "-out", pem]);
        Assert.True(split.ExitCode == 0, split.Error);
        split = await PosternProcess.RunAsync("openssl", ["pkcs12", "-in", pfx, "-passin", "pass:" + PfxPassword, "-nocerts", "-nodes", "-out", key]);
        Assert.True(split.ExitCode == 0, split.Error);
        var text = await PosternProcess.RunAsync("openssl", ["x509", "-in", pem, "-noout", "-text"]);
        Assert.Contains("email:" + Alice, text.Output, StringComparison.Ordinal);
        Assert.Contains("TLS Web Client Authentication", text.Output, StringComparison.Ordinal);

        // The organization's root in place of the user's certificate is refused: a CA certificate identifies no one.
        var root = Path.Combine(work, "root.pem");
        Assert.Equal(0, (await _server.CliAsync(null, "ca", "export", "--out", root)).ExitCode);
        var wrong = await _server.CliAsync(null, "user", "cert", "map", Alice, "--file", root);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("is a CA certificate", wrong.Error, StringComparison.Ordinal);

        var mapped = await _server.CliAsync(null, "user", "cert", "map", Alice, "--file", pem);
        Assert.True(mapped.ExitCode == 0, mapped.Error);

        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfx, PfxPassword);
        foreach (var service in Services)
        {
            Assert.True(await ExternalLogonAsync(service.Port, service.Protocol, certificate) == Outcome.LoggedOn, $"{service.Protocol} refused Alice's certificate");
        }

        // A logon without a certificate has no EXTERNAL to use.
        foreach (var service in Services)
        {
            Assert.NotEqual(Outcome.LoggedOn, await ExternalLogonAsync(service.Port, service.Protocol, null));
        }

        Assert.Equal(0, (await CurlAsync("imaps", 993, pem, key)).ExitCode);
        Assert.Equal(0, (await CurlAsync("pop3s", 995, pem, key)).ExitCode);
        Assert.Equal(0, (await CurlAsync("smtps", 465, pem, key, work)).ExitCode);

        var revoked = await _server.CliAsync(null, "ca", "revoke", serial, "--reason", "KeyCompromise");
        Assert.True(revoked.ExitCode == 0, revoked.Error);
        foreach (var service in Services)
        {
            Assert.True(await ExternalLogonAsync(service.Port, service.Protocol, certificate) != Outcome.LoggedOn, $"{service.Protocol} accepted a revoked certificate");
        }

        Assert.NotEqual(0, (await CurlAsync("imaps", 993, pem, key)).ExitCode);
        Assert.NotEqual(0, (await CurlAsync("pop3s", 995, pem, key)).ExitCode);
        Assert.NotEqual(0, (await CurlAsync("smtps", 465, pem, key, work)).ExitCode);
        Assert.Contains("revoked", _server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertificateFromAForeignIssuerIsRefusedEvenWithTheUsersAddress()
    {
        await PrepareAsync();
        using var foreignRoot = CreateRoot("CN=Somebody Else's Root", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        using var foreign = CreateUserCertificate(foreignRoot, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30));
        foreach (var service in Services)
        {
            Assert.True(await ExternalLogonAsync(service.Port, service.Protocol, foreign) != Outcome.LoggedOn, $"{service.Protocol} accepted a foreign certificate");
        }
    }

    [Fact]
    public async Task ExpiredCertificateIsRefusedEvenWhenTrustedAndMapped()
    {
        var work = await PrepareAsync();
        using var externalRoot = CreateRoot("CN=Trusted External Root", DateTimeOffset.UtcNow.AddYears(-2), DateTimeOffset.UtcNow.AddYears(2));
        var rootPem = Path.Combine(work, "external-root.pem");
        await File.WriteAllTextAsync(rootPem, externalRoot.ExportCertificatePem());
        var trusted = await _server.CliAsync(null, "ca", "trust", "add", "--file", rootPem);
        Assert.True(trusted.ExitCode == 0, trusted.Error);

        using var current = CreateUserCertificate(externalRoot, DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(30));
        using var expired = CreateUserCertificate(externalRoot, DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1));
        foreach (var certificate in new[] { current, expired })
        {
            var pem = Path.Combine(work, certificate.SerialNumber + ".pem");
            await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem());
            var mapped = await _server.CliAsync(null, "user", "cert", "map", Alice, "--file", pem);
            Assert.True(mapped.ExitCode == 0, mapped.Error);
        }

        // The same issuer and mapping with a current certificate logs on: only the expiry differs.
        Assert.True(await ExternalLogonAsync(993, "imap", current) == Outcome.LoggedOn, _server.Log);
        foreach (var service in Services)
        {
            Assert.True(await ExternalLogonAsync(service.Port, service.Protocol, expired) != Outcome.LoggedOn, $"{service.Protocol} accepted an expired certificate");
        }
    }

    private async Task<string> PrepareAsync()
    {
        await _server.CliAsync(null, "domain", "add", "example.test");
        await _server.CliAsync("alice-password\n", "user", "add", Alice, "--password-stdin");
        foreach (var service in Services)
        {
            var set = await _server.CliAsync(null, "vs", "set", service.VirtualServer, "--client-certificates", "accepted");
            Assert.True(set.ExitCode == 0, set.Error);
        }

        return Directory.CreateTempSubdirectory("postern-usercert-").FullName;
    }

    private Task<(int ExitCode, string Output, string Error)> CurlAsync(string scheme, int standardPort, string pem, string key, string? work = null)
    {
        var port = _server.Port(standardPort);
        List<string> args = ["-s", "--max-time", "20", "--cacert", _server.RootPemPath, "--cert", pem, "--key", key, "--login-options", "AUTH=EXTERNAL", "-u", Alice + ":",
            "--resolve", $"mail.example.test:{port}:127.0.0.1", $"{scheme}://mail.example.test:{port}/"];
        if (work is not null)
        {
            var message = Path.Combine(work, "message.txt");
            File.WriteAllText(message, "Subject: certificate logon\r\n\r\nsent after SASL EXTERNAL\r\n");
            args.AddRange(["--mail-from", Alice, "--mail-rcpt", Alice, "-T", message]);
        }

        return PosternProcess.RunAsync("curl", args);
    }

    private enum Outcome
    {
        LoggedOn,
        Refused,
        HandshakeFailed,
    }

    /// <summary>Implicit TLS with the certificate as the client's, then the protocol's SASL EXTERNAL with an empty initial response ("=").</summary>
    private async Task<Outcome> ExternalLogonAsync(int standardPort, string protocol, X509Certificate2? certificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _server.Port(standardPort));
        await using var tls = new SslStream(tcp.GetStream(), false, IsOrganizationsCertificate, (_, _, _, _, _) => certificate!);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "mail.example.test",
                ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
            }, timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
            return Outcome.HandshakeFailed;
        }

        using var reader = new StreamReader(tls, Encoding.ASCII, false, 1024, leaveOpen: true);
        async Task<string> ReplyAsync()
        {
            // Multi-line SMTP replies ("250-...") end with the line whose code is followed by a space.
            string line;
            do
            {
                line = await reader.ReadLineAsync(timeout.Token) ?? "";
            }
            while ((protocol == "smtp" && line.Length > 3 && line[3] == '-') || (protocol == "imap" && line.StartsWith('*')));
            return line;
        }

        async Task<string> SendAsync(string command)
        {
            await tls.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), timeout.Token);
            await tls.FlushAsync(timeout.Token);
            return await ReplyAsync();
        }

        try
        {
            var greeting = await reader.ReadLineAsync(timeout.Token) ?? "";
            Assert.False(greeting.Length == 0, $"no greeting from {protocol}");
            if (protocol == "smtp")
            {
                await ReplyRestAsync(reader, greeting, timeout.Token);
                await SendAsync("EHLO client.example.test");
            }

            var reply = protocol switch
            {
                "smtp" => await SendAsync("AUTH EXTERNAL ="),
                "pop3" => await SendAsync("AUTH EXTERNAL ="),
                "imap" => await SendAsync("a1 AUTHENTICATE EXTERNAL ="),
                _ => await SendAsync("AUTHINFO SASL EXTERNAL ="),
            };
            var success = protocol switch
            {
                "smtp" => reply.StartsWith("235", StringComparison.Ordinal),
                "pop3" => reply.StartsWith("+OK", StringComparison.Ordinal),
                "imap" => reply.StartsWith("a1 OK", StringComparison.Ordinal),
                _ => reply.StartsWith("281", StringComparison.Ordinal),
            };
            return success ? Outcome.LoggedOn : Outcome.Refused;
        }
        catch (IOException)
        {
            return Outcome.Refused;
        }
    }

    /// <summary>The server must present a certificate that chains to the organization's root.</summary>
    private bool IsOrganizationsCertificate(object sender, X509Certificate? presented, X509Chain? chain, SslPolicyErrors errors)
    {
        if (presented is null)
        {
            return false;
        }

        using var verify = new X509Chain();
        verify.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        verify.ChainPolicy.CustomTrustStore.Add(_server.Root);
        verify.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var certificate = new X509Certificate2(presented);
        return verify.Build(certificate);
    }

    private static async Task ReplyRestAsync(StreamReader reader, string first, CancellationToken cancellationToken)
    {
        var line = first;
        while (line.Length > 3 && line[3] == '-')
        {
            line = await reader.ReadLineAsync(cancellationToken) ?? "";
        }
    }

    private static X509Certificate2 CreateRoot(string subject, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    private static X509Certificate2 CreateUserCertificate(X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + Alice, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddEmailAddress(Alice);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(issuer, notBefore, notAfter, serial);
        using var withKey = issued.CopyWithPrivateKey(key);

        // A PFX round trip gives SslStream a certificate whose key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }
}
