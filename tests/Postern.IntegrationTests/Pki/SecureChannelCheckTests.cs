using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Pki;

/// <summary>`postern check` must find what is wrong, exit non-zero and name the problem.</summary>
public sealed class SecureChannelCheckTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private const string Pop3 = "Default POP3 Virtual Server";
    private const string Imap = "Default IMAP4 Virtual Server";
    private const string Nntp = "Default NNTP Virtual Server";
    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task HealthyServerPassesAndReportsItsKey()
    {
        var check = await _server.CliAsync(null, "check", Imap, "--json");
        Assert.True(check.ExitCode == 0, check.Output + check.Error);
        using var results = JsonDocument.Parse(check.Output);
        Assert.All(results.RootElement.EnumerateArray(), r =>
        {
            Assert.Equal("EC", r.GetProperty("keyAlgorithm").GetString());
            Assert.True(r.GetProperty("keyBits").GetInt32() >= 256);
        });
    }

    [Fact]
    public async Task AVirtualServerThatRequiresClientCertificatesPasses()
    {
        // It encrypts like any other; that the check, which has no client certificate, is then shown the door is not a
        // failure of the virtual server.
        var created = await _server.CliAsync(null, "vs", "create", "--name", "Certificate IMAP", "--protocol", "imap", "--bind", "127.0.0.1:0", "127.0.0.1:0/tls");
        Assert.True(created.ExitCode == 0, created.Error);
        var set = await _server.CliAsync(null, "vs", "set", "Certificate IMAP", "--client-certificates", "required");
        Assert.True(set.ExitCode == 0, set.Error);

        var check = await _server.CliAsync(null, "check", "Certificate IMAP", "--json");
        Assert.True(check.ExitCode == 0, check.Output + check.Error);
        using var results = JsonDocument.Parse(check.Output);
        Assert.Equal(2, results.RootElement.GetArrayLength());
        Assert.All(results.RootElement.EnumerateArray(), r => Assert.StartsWith("TLS 1.", r.GetProperty("tlsVersion").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForeignCertificatesCannotBeInstalledSoTheyCannotBeServed()
    {
        // The import itself refuses what would not verify: nobody trusts the issuer, or it is expired.
        var work = Directory.CreateTempSubdirectory("postern-check-").FullName;
        var foreign = await SelfSignedPfxAsync(work, "foreign", "rsa:2048", days: 30);
        var imported = await _server.CliAsync("pfx-pass\n", "cert", "import", Nntp, "--file", foreign, "--password-stdin");
        Assert.Equal(1, imported.ExitCode);
        Assert.Contains("trusted root", imported.Error, StringComparison.Ordinal);
        var check = await _server.CliAsync(null, "check", Nntp);
        Assert.True(check.ExitCode == 0, check.Output);
    }

    [Fact]
    public async Task WrongNameAndSoonExpiringCertificateIsReported()
    {
        var work = Directory.CreateTempSubdirectory("postern-check-").FullName;
        var pfx = await ExternallyIssuedPfxAsync(_server, work, "other", "rsa:2048", "other.example.test", days: 5);
        var imported = await _server.CliAsync("pfx-pass\n", "cert", "import", Pop3, "--file", pfx, "--password-stdin");
        Assert.True(imported.ExitCode == 0, imported.Output + imported.Error);

        var check = await _server.CliAsync(null, "check", Pop3, "--json");
        Assert.Equal(2, check.ExitCode);
        using var results = JsonDocument.Parse(check.Output);
        Assert.Equal(2, results.RootElement.GetArrayLength());
        foreach (var result in results.RootElement.EnumerateArray())
        {
            Assert.False(result.GetProperty("ok").GetBoolean());
            Assert.True(result.GetProperty("chainVerified").GetBoolean(), result.ToString());
            var problems = string.Join("; ", result.GetProperty("problems").EnumerateArray().Select(p => p.GetString()));
            Assert.Contains("does not name mail.example.test", problems, StringComparison.Ordinal);
            Assert.Contains("expires in", problems, StringComparison.Ordinal);
            Assert.Equal("RSA", result.GetProperty("keyAlgorithm").GetString());
            Assert.Equal(2048, result.GetProperty("keyBits").GetInt32());
        }

        // The table names the problem too, for the admin reading it.
        var table = await _server.CliAsync(null, "check", Pop3);
        Assert.Equal(2, table.ExitCode);
        Assert.Contains("FAIL", table.Output, StringComparison.Ordinal);
        Assert.Contains("RSA 2048", table.Output, StringComparison.Ordinal);
        Assert.Contains("does not name", table.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACertificateTheOrganizationsCaRevokedIsReported()
    {
        // Revoked (key compromise) but still served, as it is the virtual server's only certificate: the check must not
        // call that chain good, whatever a client that skips revocation checking would say.
        var created = await _server.CliAsync(null, "vs", "create", "--name", "Revoked NNTP", "--protocol", "nntp", "--bind", "127.0.0.1:0/tls");
        Assert.True(created.ExitCode == 0, created.Error);
        var requested = await _server.CliAsync(null, "cert", "request", "Revoked NNTP", "--online", "--org", "Example Org", "--cn", "mail.example.test", "--country", "DE", "--json");
        Assert.True(requested.ExitCode == 0, requested.Error);
        using (var shown = JsonDocument.Parse((await _server.CliAsync(null, "cert", "show", "Revoked NNTP", "--json")).Output))
        {
            foreach (var other in shown.RootElement.GetProperty("certificates").EnumerateArray().Where(c => !c.GetProperty("subject").GetString()!.Contains("O=Example Org", StringComparison.Ordinal)))
            {
                Assert.Equal(0, (await _server.CliAsync(null, "cert", "remove", "Revoked NNTP", "--thumbprint", other.GetProperty("thumbprint").GetString()!)).ExitCode);
            }
        }

        Assert.True((await _server.CliAsync(null, "check", "Revoked NNTP")).ExitCode == 0);
        using var issued = JsonDocument.Parse((await _server.CliAsync(null, "ca", "issued", "--json")).Output);
        var serial = issued.RootElement.EnumerateArray().Last(i => i.GetProperty("subject").GetString()!.Contains("O=Example Org", StringComparison.Ordinal)).GetProperty("serialNumber").GetString()!;
        var revoked = await _server.CliAsync(null, "ca", "revoke", serial, "--reason", "KeyCompromise");
        Assert.True(revoked.ExitCode == 0, revoked.Error);

        var check = await _server.CliAsync(null, "check", "Revoked NNTP", "--json");
        Assert.Equal(2, check.ExitCode);
        using var results = JsonDocument.Parse(check.Output);
        var result = Assert.Single(results.RootElement.EnumerateArray().ToList());
        Assert.Contains(result.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("revoked", StringComparison.Ordinal));
        Assert.False(result.GetProperty("chainVerified").GetBoolean());
        Assert.Contains("chain FAIL", (await _server.CliAsync(null, "check", "Revoked NNTP")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WeakKeyIsRefusedAtImport()
    {
        var work = Directory.CreateTempSubdirectory("postern-check-").FullName;
        var pfx = await ExternallyIssuedPfxAsync(_server, work, "weak", "rsa:1024", "mail.example.test", days: 60);
        var imported = await _server.CliAsync("pfx-pass\n", "cert", "import", Imap, "--file", pfx, "--password-stdin");
        Assert.Equal(1, imported.ExitCode);
        Assert.Contains("RSA key is only 1024 bits", imported.Error, StringComparison.Ordinal);
        var check = await _server.CliAsync(null, "check", Imap);
        Assert.True(check.ExitCode == 0, check.Output);
    }

    [Fact]
    public async Task BindingThatCannotListenIsReported()
    {
        // Somebody else holds the port the new virtual server is told to use.
        using var squatter = HoldPortAboveOffset();
        var heldPort = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var standardPort = heldPort - _server.PortOffset;

        // The virtual server is created, but the command says its binding is down and fails.
        var created = await _server.CliAsync(null, "vs", "create", "--name", "Spare NNTP", "--protocol", "nntp", "--bind", $"127.0.0.1:{standardPort}/tls");
        Assert.Equal(1, created.ExitCode);
        Assert.Contains($"127.0.0.1:{heldPort} is not listening", created.Error, StringComparison.Ordinal);
        var check = await _server.CliAsync(null, "check", "Spare NNTP", "--json");
        Assert.Equal(2, check.ExitCode);
        using var results = JsonDocument.Parse(check.Output);
        var result = Assert.Single(results.RootElement.EnumerateArray().ToList());
        Assert.Contains(result.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("not listening", StringComparison.Ordinal));
        Assert.EndsWith(":" + heldPort, result.GetProperty("endpoint").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStoppedVirtualServerNamedToTheCheckIsReportedNotPassed()
    {
        var created = await _server.CliAsync(null, "vs", "create", "--name", "Stopped NNTP", "--protocol", "nntp", "--bind", "127.0.0.1:0/tls");
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Equal(0, (await _server.CliAsync(null, "vs", "stop", "Stopped NNTP")).ExitCode);

        var check = await _server.CliAsync(null, "check", "Stopped NNTP");
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("is stopped", Assert.Single(check.Error.Trim().Split('\n')), StringComparison.Ordinal);
    }

    /// <summary>A listener on a free port that the server's port offset can reach (an ephemeral port may lie below it).</summary>
    private TcpListener HoldPortAboveOffset()
    {
        for (var standardPort = 3000; standardPort < 3000 + 500; standardPort++)
        {
            var squatter = new TcpListener(IPAddress.Loopback, _server.Port(standardPort));
            try
            {
                squatter.Start();
                return squatter;
            }
            catch (SocketException)
            {
                squatter.Dispose();
            }
        }

        throw new InvalidOperationException("no free port above the port offset");
    }

    /// <summary>A server certificate from an OpenSSL CA whose root the organization trusts (added here), as a PFX.</summary>
    internal static async Task<string> ExternallyIssuedPfxAsync(PosternProcess server, string work, string name, string key, string dnsName, int days)
    {
        var root = Path.Combine(work, "root.pem");
        var rootKey = Path.Combine(work, "root.key");
        var made = await PosternProcess.RunAsync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", rootKey, "-out", root,
            "-days", "365", "-subj", "/CN=Check Test Root/O=Test CA Inc", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        Assert.True(made.ExitCode == 0, made.Error);
        var trusted = await server.CliAsync(null, "ca", "trust", "add", "--file", root);
        Assert.True(trusted.ExitCode == 0, trusted.Error);

        var keyFile = Path.Combine(work, name + ".key");
        var request = Path.Combine(work, name + ".csr");
        made = await PosternProcess.RunAsync("openssl", ["req", "-new", "-newkey", key, "-nodes", "-keyout", keyFile, "-subj", "/CN=" + dnsName, "-out", request]);
        Assert.True(made.ExitCode == 0, made.Error);
        var extensions = Path.Combine(work, name + ".ext");
        await File.WriteAllTextAsync(extensions, $"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:{dnsName}\n");
        var pem = Path.Combine(work, name + ".pem");
        made = await PosternProcess.RunAsync("openssl", ["x509", "-req", "-in", request, "-CA", root, "-CAkey", rootKey, "-CAcreateserial", "-out", pem, "-extfile", extensions,
            "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(made.ExitCode == 0, made.Error);
        var pfx = Path.Combine(work, name + ".pfx");
        var exported = await PosternProcess.RunAsync("openssl", ["pkcs12", "-export", "-in", pem, "-inkey", keyFile, "-certfile", root, "-out", pfx, "-passout", "pass:pfx-pass"]);
        Assert.True(exported.ExitCode == 0, exported.Error);
        return pfx;
    }

    /// <summary>A self-signed certificate for the right name from nobody the organization trusts, as a PFX made by OpenSSL.</summary>
    private static async Task<string> SelfSignedPfxAsync(string work, string name, string key, int days)
    {
        var pem = Path.Combine(work, name + ".pem");
        var keyFile = Path.Combine(work, name + ".key");
        var made = await PosternProcess.RunAsync("openssl", ["req", "-x509", "-newkey", key, "-nodes", "-keyout", keyFile, "-out", pem,
            "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture), "-subj", "/CN=mail.example.test/O=Somebody Else",
            "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "subjectAltName=DNS:mail.example.test", "-addext", "extendedKeyUsage=serverAuth", "-addext", "keyUsage=critical,digitalSignature,keyEncipherment"]);
        Assert.True(made.ExitCode == 0, made.Error);
        var pfx = Path.Combine(work, name + ".pfx");
        var exported = await PosternProcess.RunAsync("openssl", ["pkcs12", "-export", "-in", pem, "-inkey", keyFile, "-out", pfx, "-passout", "pass:pfx-pass"]);
        Assert.True(exported.ExitCode == 0, exported.Error);
        return pfx;
    }
}
