using System.Text.RegularExpressions;
using System.Xml.Linq;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Tls;

/// <summary>
/// An independent audit of every TLS port of a running `postern serve`: sslscan (its own TLS client,
/// which offers every protocol and cipher it knows one by one) and OpenSSL probes for NNTP STARTTLS,
/// which sslscan cannot speak. The client offers the weak things deliberately (SECLEVEL=0), so a server
/// that accepted them would be caught.
/// </summary>
public sealed partial class TlsAuditTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private const string Smtp = "Default SMTP Virtual Server";
    private const string Submission = "Client Submission";
    private const string Pop3 = "Default POP3 Virtual Server";
    private const string Imap = "Default IMAP4 Virtual Server";
    private const string Nntp = "Default NNTP Virtual Server";
    private const string Http = "Default HTTP Virtual Server";

    // OpenSSL cipher strings that name what must never be negotiated.
    private const string WeakCiphers = "NULL:eNULL:aNULL:EXPORT:RC4:3DES:DES:LOW:MD5:IDEA:SEED:@SECLEVEL=0";

    private readonly PosternProcess _server = fixture.Server;

    /// <summary>Virtual server, standard port, STARTTLS dialect ("" for implicit TLS).</summary>
    public static TheoryData<string, int, string> TlsPorts => new()
    {
        { Smtp, 25, "smtp" },
        { Submission, 587, "smtp" },
        { Submission, 465, "" },
        { Pop3, 110, "pop3" },
        { Pop3, 995, "" },
        { Imap, 143, "imap" },
        { Imap, 993, "" },
        { Nntp, 119, "nntp" },
        { Nntp, 563, "" },
        { Http, 443, "" },
    };

    [Theory]
    [MemberData(nameof(TlsPorts))]
    public async Task OnlyModernProtocolsStrongCiphersAndStrongKeysAreOffered(string virtualServer, int port, string starttls)
    {
        _ = virtualServer;
        var audit = await AuditAsync(port, starttls);
        Assert.True(audit.Accepted.Count > 0, $"nothing negotiated on {port}: {audit.Raw}");
        AssertNoWeakness(port, audit);
    }

    [Theory]
    [InlineData(Smtp, 25, "smtp")]
    [InlineData(Submission, 465, "")]
    [InlineData(Pop3, 110, "pop3")]
    [InlineData(Imap, 993, "")]
    [InlineData(Nntp, 119, "nntp")]
    [InlineData(Nntp, 563, "")]
    public async Task Require128BitEncryptionLeavesOnlyAeadSuites(string virtualServer, int port, string starttls)
    {
        var before = await AuditAsync(port, starttls);
        Assert.Contains(before.Accepted, c => IsCbc(c.Name)); // the default still offers CBC to old clients: the switch must matter
        await SetAsync(virtualServer, "--require-128bit", "on");
        try
        {
            var audit = await AuditAsync(port, starttls);
            AssertNoWeakness(port, audit);
            Assert.NotEmpty(audit.Accepted);
            Assert.DoesNotContain(audit.Accepted, c => IsCbc(c.Name));
            Assert.All(audit.Accepted, c => Assert.True(c.Bits >= 128, $"{c.Name} is {c.Bits} bits"));
        }
        finally
        {
            await SetAsync(virtualServer, "--require-128bit", "off");
        }
    }

    [Theory]
    [InlineData(Pop3, 995, "")]
    [InlineData(Imap, 143, "imap")]
    [InlineData(Smtp, 25, "smtp")]
    [InlineData(Nntp, 119, "nntp")]
    public async Task MinimumTls13RefusesTls12(string virtualServer, int port, string starttls)
    {
        Assert.True((await ProbeAsync(port, starttls, "-tls1_2")).Negotiated is not null);
        await SetAsync(virtualServer, "--min-tls", "1.3");
        try
        {
            Assert.Null((await ProbeAsync(port, starttls, "-tls1_2", "-cipher", "ALL:@SECLEVEL=0")).Negotiated);
            var tls13 = await ProbeAsync(port, starttls, "-tls1_3");
            Assert.Equal("TLSv1.3", tls13.Negotiated);
            if (starttls != "nntp")
            {
                var audit = await AuditAsync(port, starttls);
                Assert.All(audit.Accepted, c => Assert.Equal("TLSv1.3", c.Protocol));
            }
        }
        finally
        {
            await SetAsync(virtualServer, "--min-tls", "1.2");
        }
    }

    private static void AssertNoWeakness(int port, TlsAudit audit)
    {
        foreach (var old in new[] { "SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1" })
        {
            Assert.False(audit.EnabledProtocols.Contains(old), $"{old} accepted on {port}");
        }

        Assert.All(audit.Accepted, c =>
        {
            Assert.True(c.Protocol is "TLSv1.2" or "TLSv1.3", $"{c.Name} over {c.Protocol} on {port}");
            Assert.True(c.Bits >= 128, $"{c.Name} is {c.Bits} bits on {port}");
            Assert.DoesNotMatch(WeakSuiteName(), c.Name);
        });
        Assert.True(audit.KeyType is "RSA" ? audit.KeyBits >= 2048 : audit.KeyBits >= 256, $"{audit.KeyType} key of {audit.KeyBits} bits on {port}");
    }

    /// <summary>sslscan for everything it can speak; OpenSSL probes for NNTP STARTTLS.</summary>
    private async Task<TlsAudit> AuditAsync(int standardPort, string starttls) =>
        starttls == "nntp" ? await OpenSslAuditAsync(standardPort, starttls) : await SslScanAsync(standardPort, starttls);

    private async Task<TlsAudit> SslScanAsync(int standardPort, string starttls)
    {
        List<string> args = ["--xml=-", "--no-colour", "--no-heartbleed", "--sni-name=mail.example.test"];
        if (starttls.Length > 0)
        {
            args.Add("--starttls-" + starttls);
        }

        args.Add($"127.0.0.1:{_server.Port(standardPort)}");
        (int ExitCode, string Output, string Error) scan;
        try
        {
            scan = await PosternProcess.RunAsync("sslscan", args, timeoutSeconds: 120);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("sslscan is not installed (apt-get install sslscan; test.sh installs it)");
            throw;
        }

        var xml = scan.Output[scan.Output.IndexOf("<?xml", StringComparison.Ordinal)..];
        var document = XDocument.Parse(xml);
        var test = document.Root!.Element("ssltest") ?? throw new InvalidOperationException("no ssltest in sslscan output: " + scan.Output + scan.Error);
        var enabled = test.Elements("protocol").Where(p => (string?)p.Attribute("enabled") == "1")
            .Select(p => $"{((string)p.Attribute("type")!).ToUpperInvariant().Replace("SSL", "SSLv", StringComparison.Ordinal).Replace("TLS", "TLSv", StringComparison.Ordinal)}{p.Attribute("version")!.Value}")
            .ToHashSet(StringComparer.Ordinal);
        var accepted = test.Elements("cipher").Where(c => (string?)c.Attribute("status") is "accepted" or "preferred")
            .Select(c => new AcceptedCipher((string)c.Attribute("sslversion")!, (string)c.Attribute("cipher")!, (int)c.Attribute("bits")!))
            .ToList();
        var key = test.Descendants("certificate").Elements("pk").FirstOrDefault();
        var keyType = (string?)key?.Attribute("type") ?? "?";
        var keyBits = (int?)key?.Attribute("bits") ?? 0;
        if (keyType == "EC")
        {
            // sslscan gives an EC key's security level (128 for P-256); the key size is twice that.
            keyBits *= 2;
        }

        if (key is null || keyBits == 0)
        {
            (keyType, keyBits) = await ServerKeyAsync(standardPort, starttls);
        }

        return new TlsAudit(enabled, accepted, keyType, keyBits, xml);
    }

    /// <summary>What sslscan does, done by hand with s_client: each old protocol, each weak cipher family, then every cipher OpenSSL knows for TLS 1.2.</summary>
    private async Task<TlsAudit> OpenSslAuditAsync(int standardPort, string starttls)
    {
        var enabled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (option, name) in new[] { ("-tls1", "TLSv1.0"), ("-tls1_1", "TLSv1.1") })
        {
            if ((await ProbeAsync(standardPort, starttls, option, "-cipher", "ALL:@SECLEVEL=0")).Negotiated is not null)
            {
                enabled.Add(name);
            }
        }

        var accepted = new List<AcceptedCipher>();
        var weak = await ProbeAsync(standardPort, starttls, "-tls1_2", "-cipher", WeakCiphers);
        if (weak.Negotiated is not null)
        {
            accepted.Add(new AcceptedCipher(weak.Negotiated, weak.Cipher!, 0));
        }

        // Every TLS 1.2 cipher OpenSSL offers, one at a time, with the strength OpenSSL reports for it.
        var ciphers = await PosternProcess.RunAsync("openssl", ["ciphers", "-v", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"]);
        foreach (var line in ciphers.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || fields[1] == "TLSv1.3")
            {
                continue;
            }

            var probe = await ProbeAsync(standardPort, starttls, "-tls1_2", "-cipher", fields[0] + ":@SECLEVEL=0");
            if (probe.Negotiated is not null)
            {
                var bits = BitsOf().Match(line);
                accepted.Add(new AcceptedCipher(probe.Negotiated, probe.Cipher!, bits.Success ? int.Parse(bits.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0));
            }
        }

        var tls13 = await ProbeAsync(standardPort, starttls, "-tls1_3");
        if (tls13.Negotiated is not null)
        {
            accepted.Add(new AcceptedCipher(tls13.Negotiated, tls13.Cipher!, tls13.Cipher!.Contains("128", StringComparison.Ordinal) ? 128 : 256));
        }

        var (keyType, keyBits) = await ServerKeyAsync(standardPort, starttls);
        return new TlsAudit(enabled, accepted, keyType, keyBits, string.Join("\n", accepted));
    }

    private async Task<(string Type, int Bits)> ServerKeyAsync(int standardPort, string starttls)
    {
        var probe = await ProbeAsync(standardPort, starttls);
        var bits = ServerKeyBits().Match(probe.Output);
        Assert.True(bits.Success, probe.Output);
        var type = probe.Output.Contains("Peer signature type: ECDSA", StringComparison.Ordinal) ? "EC" : "RSA";
        return (type, int.Parse(bits.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<Probe> ProbeAsync(int standardPort, string starttls, params string[] options)
    {
        List<string> args = ["s_client", "-connect", $"127.0.0.1:{_server.Port(standardPort)}", "-servername", "mail.example.test"];
        if (starttls.Length > 0)
        {
            args.AddRange(["-starttls", starttls]);
        }

        args.AddRange(options);
        var run = await PosternProcess.RunAsync("openssl", args, "Q\n");
        var output = run.Output + run.Error;
        var cipher = NegotiatedCipher().Match(output);
        return cipher.Success && cipher.Groups[2].Value != "(NONE)"
            ? new Probe(cipher.Groups[1].Value, cipher.Groups[2].Value, output)
            : new Probe(null, null, output);
    }

    private async Task SetAsync(string virtualServer, string option, string value)
    {
        var set = await _server.CliAsync(null, "vs", "set", virtualServer, option, value);
        Assert.True(set.ExitCode == 0, set.Error);
    }

    // IANA/OpenSSL names of TLS 1.2 suites without an AEAD cipher (CBC or stream): neither has GCM, CCM nor CHACHA20/POLY1305.
    private static bool IsCbc(string name) =>
        !name.Contains("GCM", StringComparison.Ordinal) && !name.Contains("CCM", StringComparison.Ordinal) && !name.Contains("CHACHA20", StringComparison.Ordinal) &&
        !name.StartsWith("TLS_", StringComparison.Ordinal);

    [GeneratedRegex("NULL|EXP|RC4|RC2|DES|ADH|AECDH|anon|MD5|IDEA|SEED", RegexOptions.IgnoreCase)]
    private static partial Regex WeakSuiteName();

    [GeneratedRegex(@"New, (TLSv1(?:\.\d)?|SSLv\d|\(NONE\)), Cipher is (\S+)")]
    private static partial Regex NegotiatedCipher();

    [GeneratedRegex(@"Server public key is (\d+) bit")]
    private static partial Regex ServerKeyBits();

    [GeneratedRegex(@"Enc=[^\s(]+\((\d+)\)")]
    private static partial Regex BitsOf();

    private sealed record AcceptedCipher(string Protocol, string Name, int Bits);

    private sealed record TlsAudit(HashSet<string> EnabledProtocols, List<AcceptedCipher> Accepted, string KeyType, int KeyBits, string Raw);

    private sealed record Probe(string? Negotiated, string? Cipher, string Output);
}
