using System.Text.Json;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Pki;

/// <summary>
/// The article's procedures walked through with the `postern` CLI against a running server, with OpenSSL
/// as the external CA and real TLS clients checking what each virtual server then serves.
/// </summary>
public sealed class CertificateWizardCliTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private const string Imap = "Default IMAP4 Virtual Server";
    private const string Pop3 = "Default POP3 Virtual Server";
    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task OfflineRequestSignedByAnExternalCaIsInstalledAndServed()
    {
        var work = Directory.CreateTempSubdirectory("postern-extca-").FullName;
        var request = Path.Combine(work, "certreq.txt");

        // Prepare the request now, but send it later: the article's fields, in a PKCS#10 file.
        var prepared = await _server.CliAsync(null, "cert", "request", Imap, "--offline", "--bits", "2048", "--org", "Example Org", "--ou", "Mail",
            "--cn", "mail.example.test", "--country", "NZ", "--state", "Wellington", "--city", "Wellington", "--out", request);
        Assert.True(prepared.ExitCode == 0, prepared.Error);
        var text = await Run("openssl", "req", "-in", request, "-noout", "-text", "-verify");
        Assert.Contains("verify OK", text.Output + text.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("C=NZ, ST=Wellington, L=Wellington, O=Example Org, OU=Mail, CN=mail.example.test", text.Output.Replace(" = ", "=", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("Public-Key: (2048 bit)", text.Output, StringComparison.Ordinal);
        Assert.Contains("DNS:mail.example.test", text.Output, StringComparison.Ordinal);

        var pending = await _server.CliAsync(null, "cert", "pending", Imap, "--json");
        Assert.True(pending.ExitCode == 0, pending.Error);

        // OpenSSL acts as the external CA.
        var (rootPem, cer) = await SignWithOpenSslCaAsync(work, request, days: 30);
        var trust = await _server.CliAsync(null, "ca", "trust", "add", "--file", rootPem);
        Assert.True(trust.ExitCode == 0, trust.Error);

        var installed = await _server.CliAsync(null, "cert", "install", Imap, "--file", cer);
        Assert.True(installed.ExitCode == 0, installed.Error);
        Assert.Contains("issued to", installed.Output, StringComparison.Ordinal);
        Assert.Contains("Server Authentication", installed.Output, StringComparison.OrdinalIgnoreCase);

        // Served on every binding of that virtual server, after STARTTLS and on implicit TLS.
        var starttls = await Run("openssl", "s_client", "-connect", $"127.0.0.1:{_server.Port(143)}", "-starttls", "imap", "-servername", "mail.example.test",
            "-CAfile", rootPem, "-verify_return_error", "-verify_hostname", "mail.example.test");
        Assert.Contains("Verify return code: 0 (ok)", starttls.Output, StringComparison.Ordinal);
        Assert.Contains("Example Org", starttls.Output, StringComparison.Ordinal);
        var implicitTls = await Run("openssl", "s_client", "-connect", $"127.0.0.1:{_server.Port(993)}", "-servername", "mail.example.test",
            "-CAfile", rootPem, "-verify_return_error", "-verify_hostname", "mail.example.test");
        Assert.Contains("Verify return code: 0 (ok)", implicitTls.Output, StringComparison.Ordinal);

        // Other virtual servers still serve the organization's own certificate.
        var other = await Run("openssl", "s_client", "-connect", $"127.0.0.1:{_server.Port(995)}", "-servername", "mail.example.test",
            "-CAfile", _server.RootPemPath, "-verify_return_error");
        Assert.Contains("Verify return code: 0 (ok)", other.Output, StringComparison.Ordinal);

        var check = await _server.CliAsync(null, "check", Imap, "--json");
        Assert.True(check.ExitCode == 0, check.Output + check.Error);
    }

    [Fact]
    public async Task MismatchedOrExpiredCertificatesAreRefusedAndTheOldOneKeepsServing()
    {
        var work = Directory.CreateTempSubdirectory("postern-extca-").FullName;
        var request = Path.Combine(work, "certreq.txt");
        var prepared = await _server.CliAsync(null, "cert", "request", Pop3, "--offline", "--org", "Example Org", "--cn", "mail.example.test", "--country", "DE", "--out", request);
        Assert.True(prepared.ExitCode == 0, prepared.Error);

        // A certificate for a different key: refused with one clear line.
        var otherRequest = Path.Combine(work, "other.csr");
        await Run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", Path.Combine(work, "other.key"),
            "-subj", "/CN=mail.example.test", "-addext", "subjectAltName=DNS:mail.example.test", "-out", otherRequest);
        var (rootPem, wrongKey) = await SignWithOpenSslCaAsync(work, otherRequest, days: 30, name: "other");
        await _server.CliAsync(null, "ca", "trust", "add", "--file", rootPem);
        var mismatch = await _server.CliAsync(null, "cert", "install", Pop3, "--file", wrongKey);
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("key", mismatch.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Single(mismatch.Error.Trim().Split('\n'));

        // An expired certificate for the right key: refused too.
        var (_, expired) = await SignWithOpenSslCaAsync(work, request, days: -1, name: "expired");
        var refused = await _server.CliAsync(null, "cert", "install", Pop3, "--file", expired);
        Assert.Equal(1, refused.ExitCode);

        // The organization's certificate still serves the POP3 virtual server.
        var served = await Run("openssl", "s_client", "-connect", $"127.0.0.1:{_server.Port(995)}", "-servername", "mail.example.test", "-CAfile", _server.RootPemPath, "-verify_return_error");
        Assert.Contains("Verify return code: 0 (ok)", served.Output, StringComparison.Ordinal);

        var deleted = await _server.CliAsync(null, "cert", "delete-pending", Pop3);
        Assert.True(deleted.ExitCode == 0, deleted.Error);
        Assert.NotEqual(0, (await _server.CliAsync(null, "cert", "pending", Pop3)).ExitCode);
    }

    [Fact]
    public async Task AKeyAndABitLengthThatDisagreeAreRefusedNotSilentlyOverruled()
    {
        // The article's Bit Length is a choice the administrator makes: --bits 4096 with --key rsa2048 (or p256) made a
        // 2048-bit (or P-256) key without a word.
        const string vs = "Key Choice POP3";
        var created = await _server.CliAsync(null, "vs", "create", "--name", vs, "--protocol", "pop3", "--bind", "127.0.0.1:0");
        Assert.True(created.ExitCode == 0, created.Error);
        var work = Directory.CreateTempSubdirectory("postern-bits-").FullName;
        foreach (var key in new[] { "rsa2048", "p256" })
        {
            var refused = await _server.CliAsync(null, "cert", "request", vs, "--offline", "--key", key, "--bits", "4096", "--org", "Example Org",
                "--cn", "pop.example.test", "--country", "NZ", "--out", Path.Combine(work, key + ".txt"));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("--bits", Assert.Single(refused.Error.Trim().Split('\n')), StringComparison.Ordinal);
            Assert.NotEqual(0, (await _server.CliAsync(null, "cert", "pending", vs)).ExitCode);
        }

        // Saying the same thing twice is fine.
        var agreed = await _server.CliAsync(null, "cert", "request", vs, "--offline", "--key", "rsa3072", "--bits", "3072", "--org", "Example Org",
            "--cn", "pop.example.test", "--country", "NZ", "--out", Path.Combine(work, "agreed.txt"));
        Assert.True(agreed.ExitCode == 0, agreed.Error);
        Assert.Contains("Public-Key: (3072 bit)", (await Run("openssl", "req", "-in", Path.Combine(work, "agreed.txt"), "-noout", "-text")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOnlineRequestTheStandaloneCaDeniedSaysSoInTheWizard()
    {
        // Held at a standalone CA, then denied: the virtual server's pending request must say so (and why), or the
        // administrator waits for an approval that will never come.
        const string vs = "Held NNTP";
        var created = await _server.CliAsync(null, "vs", "create", "--name", vs, "--protocol", "nntp", "--bind", "127.0.0.1:0/tls");
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Equal(0, (await _server.CliAsync(null, "ca", "mode", "Standalone")).ExitCode);
        try
        {
            var held = await _server.CliAsync(null, "cert", "request", vs, "--online", "--org", "Example Org", "--cn", "held.example.test", "--country", "NZ");
            Assert.True(held.ExitCode == 0, held.Error);
            var waiting = await _server.CliAsync(null, "cert", "pending", vs);
            Assert.True(waiting.ExitCode == 0, waiting.Error);
            Assert.Contains("waiting for approval at the CA", waiting.Output, StringComparison.Ordinal);

            using var requests = JsonDocument.Parse((await _server.CliAsync(null, "ca", "requests", "--json")).Output);
            var id = requests.RootElement.EnumerateArray().Last().GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(0, (await _server.CliAsync(null, "ca", "deny", id, "--reason", "unknown department")).ExitCode);

            var denied = await _server.CliAsync(null, "cert", "pending", vs);
            Assert.True(denied.ExitCode == 0, denied.Error);
            Assert.Contains($"denied by the CA (request {id}): unknown department", denied.Output, StringComparison.Ordinal);
            Assert.Contains("denied by the CA", (await _server.CliAsync(null, "cert", "show", vs)).Output, StringComparison.Ordinal);
        }
        finally
        {
            Assert.Equal(0, (await _server.CliAsync(null, "ca", "mode", "Enterprise")).ExitCode);
        }
    }

    [Fact]
    public async Task OnlineRequestIsIssuedByTheBuiltInCaAndRevocationShowsInTheCrl()
    {
        var online = await _server.CliAsync(null, "cert", "request", "Default NNTP Virtual Server", "--online", "--org", "First Organization", "--cn", "news.example.test",
            "--san", "mail.example.test", "--country", "US", "--json");
        Assert.True(online.ExitCode == 0, online.Error);
        using var outcome = JsonDocument.Parse(online.Output);
        Assert.Equal("Installed", outcome.RootElement.GetProperty("state").GetString());

        var served = await Run("openssl", "s_client", "-connect", $"127.0.0.1:{_server.Port(563)}", "-servername", "news.example.test",
            "-CAfile", _server.RootPemPath, "-verify_return_error", "-verify_hostname", "news.example.test");
        Assert.Contains("Verify return code: 0 (ok)", served.Output, StringComparison.Ordinal);

        var issued = await _server.CliAsync(null, "ca", "issued", "--json");
        using var log = JsonDocument.Parse(issued.Output);
        var serial = log.RootElement.EnumerateArray().Last(e => e.GetProperty("subject").GetString()!.Contains("news.example.test", StringComparison.Ordinal)).GetProperty("serialNumber").GetString()!;

        var revoke = await _server.CliAsync(null, "ca", "revoke", serial, "--reason", "KeyCompromise");
        Assert.True(revoke.ExitCode == 0, revoke.Error);
        var crlFile = Path.Combine(_server.DataDirectory, "test.crl");
        var crl = await _server.CliAsync(null, "ca", "crl", "--out", crlFile);
        Assert.True(crl.ExitCode == 0, crl.Error);
        var text = await Run("openssl", "crl", "-inform", "DER", "-in", crlFile, "-noout", "-text");
        Assert.Contains(serial, text.Output.Replace(":", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Key Compromise", text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequireSecureChannelChangesWhatTheCheckSees()
    {
        var set = await _server.CliAsync(null, "vs", "set", Pop3, "--require-secure-channel", "on", "--require-128bit", "on");
        Assert.True(set.ExitCode == 0, set.Error);
        var check = await _server.CliAsync(null, "check", Pop3, "--json");
        using var results = JsonDocument.Parse(check.Output);
        var starttls = results.RootElement.EnumerateArray().Single(r => r.GetProperty("mode").GetString() == "StartTls");
        Assert.True(starttls.GetProperty("plaintextLoginRefused").GetBoolean());
        Assert.True(starttls.GetProperty("cipherStrengthBits").GetInt32() >= 128);
        await _server.CliAsync(null, "vs", "set", Pop3, "--require-secure-channel", "off", "--require-128bit", "off");
    }

    /// <summary>OpenSSL as an external CA: signs <paramref name="request"/> with a test root made in <paramref name="work"/> (once).</summary>
    internal static async Task<(string RootPem, string Certificate)> SignWithOpenSslCaAsync(string work, string request, int days, string name = "cert", string dnsName = "mail.example.test")
    {
        var root = Path.Combine(work, "extroot.pem");
        var rootKey = Path.Combine(work, "extroot.key");
        if (!File.Exists(root))
        {
            var made = await Run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", rootKey, "-out", root,
                "-days", "365", "-subj", "/CN=External Test Root/O=Test CA Inc", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
            Assert.True(File.Exists(root), made.Error);
        }

        var extensions = Path.Combine(work, name + ".ext");
        await File.WriteAllTextAsync(extensions, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:" + dnsName + "\n");
        var certificate = Path.Combine(work, name + ".cer");
        // A negative day count gives a certificate whose validity ended before it began: expired.
        var signed = await Run("openssl", "x509", "-req", "-in", request, "-CA", root, "-CAkey", rootKey, "-CAcreateserial", "-out", certificate, "-extfile", extensions,
            "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(File.Exists(certificate), signed.Error);
        return (root, certificate);
    }

    private static Task<(int ExitCode, string Output, string Error)> Run(string file, params string[] args) => PosternProcess.RunAsync(file, args, "Q\n");
}
