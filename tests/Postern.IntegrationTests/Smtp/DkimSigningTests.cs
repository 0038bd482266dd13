using System.Text.Json;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Smtp;

/// <summary>
/// DKIM signing of submitted mail (RFC 6376): `postern dkim add` makes a domain's key and prints the TXT record, `dkim
/// check` finds it published; mail an authenticated user sends from that domain arrives with a DKIM-Signature that
/// verifies against that record.
/// </summary>
public sealed class DkimSigningTests
{
    private const string Password = "a-good-password";

    [Fact]
    public async Task Mail_submitted_from_a_domain_with_a_key_carries_a_signature_that_its_published_record_verifies()
    {
        await using var dns = new Postern.Tests.FakeDnsServer();
        await using var server = await PosternProcess.StartAsync("mail.example.test", extraArguments: ["--dns-server", dns.EndPoint.ToString()]);
        var user = await server.AddUserAsync("signer", Password);
        var domain = user.Split('@')[1];

        // Before a key exists nothing is signed.
        await server.SubmitToSelfAsync(user, Password, "unsigned", "no key yet");

        var added = await server.CliAsync(null, "dkim", "add", domain, "--selector", "s2026", "--json");
        Assert.True(added.ExitCode == 0, added.Error);
        using var key = JsonDocument.Parse(added.Output);
        Assert.Equal($"s2026._domainkey.{domain}", key.RootElement.GetProperty("dnsName").GetString());
        var record = key.RootElement.GetProperty("dnsText").GetString()!;
        Assert.StartsWith("v=DKIM1; k=rsa; p=MII", record, StringComparison.Ordinal);
        var list = await server.CliAsync(null, "dkim", "list");
        Assert.Contains("s2026", list.Output, StringComparison.Ordinal);

        // `dkim check` asks the DNS server the node uses (--dns-server): not there yet, then published.
        var unpublished = await server.CliAsync(null, "dkim", "check", domain);
        Assert.Equal(1, unpublished.ExitCode);
        Assert.Contains("missing", unpublished.Output + unpublished.Error, StringComparison.Ordinal);
        dns.AddTxt($"s2026._domainkey.{domain}", record);
        var published = await server.CliAsync(null, "dkim", "check", domain);
        Assert.True(published.ExitCode == 0, published.Output + published.Error);
        Assert.Contains($"s2026._domainkey.{domain}: published", published.Output, StringComparison.Ordinal);

        await server.SubmitToSelfAsync(user, Password, "signed", "Signed by the domain's key.\r\nSecond line.\r\n");

        using var imap = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = server.ChainsToRoot };
        await imap.ConnectAsync("127.0.0.1", server.Port(993), SecureSocketOptions.SslOnConnect);
        await imap.AuthenticateAsync(user, Password);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var unsigned = await imap.Inbox.GetMessageAsync(0);
        var signed = await imap.Inbox.GetMessageAsync(1);
        Assert.Equal("signed", signed.Subject);
        Assert.False(unsigned.Headers.Contains(HeaderId.DkimSignature));

        var signature = signed.Headers[signed.Headers.IndexOf(HeaderId.DkimSignature)];
        Assert.Contains($"d={domain}", signature.Value, StringComparison.Ordinal);
        Assert.Contains("s=s2026", signature.Value, StringComparison.Ordinal);
        Assert.Contains("c=relaxed/relaxed", signature.Value, StringComparison.Ordinal);
        var verifier = new DkimVerifier(new PublishedRecord(record));
        Assert.True(await verifier.VerifyAsync(signed, signature), "the DKIM signature does not verify against the published record");

        // An independent verifier (Debian's python3-dkim, dkimpy, so Debian's python3) agrees, on the octets as stored (ASCII here).
        using (var raw = new MemoryStream())
        {
            await (await imap.Inbox.GetStreamAsync(1, string.Empty)).CopyToAsync(raw);
            var verified = await PosternProcess.RunAsync("/usr/bin/python3", ["-c",
                "import sys, dkim; txt = sys.argv[1].encode(); print(dkim.verify(sys.stdin.buffer.read(), dnsfunc=lambda name, timeout=5: txt))", record],
                System.Text.Encoding.ASCII.GetString(raw.ToArray()));
            Assert.True(verified.Output.Trim() == "True", verified.Output + verified.Error);
        }

        // A signature is bound to the content: the same header over an altered body fails.
        signed.Body = new TextPart("plain") { Text = "Altered on the way." };
        Assert.False(await verifier.VerifyAsync(signed, signature));

        await imap.DisconnectAsync(true);
        var removed = await server.CliAsync(null, "dkim", "remove", domain);
        Assert.True(removed.ExitCode == 0, removed.Error);
        Assert.DoesNotContain("s2026", (await server.CliAsync(null, "dkim", "list")).Output, StringComparison.Ordinal);

        // As a zone file line, the record is split into strings of at most 255 octets (RFC 1035 §3.3.14).
        var zone = await server.CliAsync(null, "dkim", "add", domain);
        Assert.True(zone.ExitCode == 0, zone.Error);
        var line = zone.Output.Split('\n').Single(l => l.Contains("._domainkey.", StringComparison.Ordinal));
        var strings = System.Text.RegularExpressions.Regex.Matches(line, "\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.True(strings.Count > 1, line);
        Assert.All(strings, s => Assert.InRange(s.Length, 1, 255));
        Assert.StartsWith("v=DKIM1; k=rsa; p=", string.Concat(strings), StringComparison.Ordinal);
    }

    /// <summary>The TXT record as DNS would give it (the test machine publishes nothing).</summary>
    private sealed class PublishedRecord(string txt) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) => GetPublicKey(txt);

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(GetPublicKey(txt));
    }
}
