using System.Net.Sockets;
using MailKit.Net.Pop3;
using MailKit.Security;
using Postern.IntegrationTests.Imap;
using Postern.IntegrationTests.Infrastructure;
using Postern.Store;

namespace Postern.IntegrationTests.Pop3;

public sealed class Pop3MailKitTests
{
    private const string Alice = "alice@example.test";

    [Fact]
    public async Task ImplicitTlsWithUserPass()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1, "First body."));
        await server.DeliverAsync(alice, Pop3TestServer.Message(2));

        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        Assert.True(client.IsSecure);
        Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.User));
        Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.UIDL));
        Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.Top));
        Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.Pipelining));

        // No SASL mechanisms: MailKit falls back to USER/PASS.
        client.AuthenticationMechanisms.Clear();
        await client.AuthenticateAsync(Alice, Pop3TestServer.Password);
        Assert.Equal(2, client.Count);
        var message = await client.GetMessageAsync(0);
        Assert.Equal("Message 1", message.Subject);
        Assert.Equal("First body.", message.TextBody?.TrimEnd());
        var headers = await client.GetMessageHeadersAsync(1);
        Assert.Equal("Message 2", headers["Subject"]);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task StartTlsWithSaslPlain()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1));

        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.StartTlsPort, SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        Assert.Contains("PLAIN", client.AuthenticationMechanisms);
        await client.AuthenticateAsync(new SaslMechanismPlain(Alice, Pop3TestServer.Password));
        Assert.Equal(1, client.Count);
        Assert.Equal("Message 1", (await client.GetMessageAsync(0)).Subject);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task SaslLoginOverClearTextWhenNoSecureChannelIsRequired()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1));

        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.StartTlsPort, SecureSocketOptions.None);
        Assert.False(client.IsSecure);
        await client.AuthenticateAsync(new SaslMechanismLogin(Alice, Pop3TestServer.Password));
        Assert.Equal(1, client.Count);
    }

    [Fact]
    public async Task RequireSecureChannelRefusesCredentialsBeforeStls()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);

        using (var client = NewClient())
        {
            await client.ConnectAsync("127.0.0.1", server.SecureChannelPort, SecureSocketOptions.None);
            Assert.False(client.IsSecure);

            // RFC 2595 §6: no SASL mechanism is advertised before STLS (USER: see the raw CAPA below).
            Assert.False(client.Capabilities.HasFlag(Pop3Capabilities.Sasl));
            Assert.Empty(client.AuthenticationMechanisms);
            Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.StartTLS));
            await Assert.ThrowsAnyAsync<Exception>(() => client.AuthenticateAsync(Alice, Pop3TestServer.Password));
        }

        await using (var raw = await Pop3RawClient.ConnectAsync(server.SecureChannelPort))
        {
            Assert.StartsWith("+OK", await raw.CommandAsync("CAPA"));
            var capabilities = await raw.ReadMultiLineAsync();
            Assert.Contains("STLS", capabilities);
            Assert.DoesNotContain("USER", capabilities);
            Assert.DoesNotContain(capabilities, c => c.StartsWith("SASL", StringComparison.Ordinal));
            Assert.StartsWith("-ERR [AUTH]", await raw.CommandAsync("USER " + Alice));
            Assert.StartsWith("-ERR [AUTH]", await raw.CommandAsync("PASS " + Pop3TestServer.Password));
            Assert.StartsWith("-ERR [AUTH]", await raw.CommandAsync("AUTH PLAIN " + Convert.ToBase64String("\0alice@example.test\0correct horse"u8)));
            Assert.StartsWith("-ERR", await raw.CommandAsync("STAT"));
        }

        using (var client = NewClient())
        {
            await client.ConnectAsync("127.0.0.1", server.SecureChannelPort, SecureSocketOptions.StartTls);
            Assert.True(client.Capabilities.HasFlag(Pop3Capabilities.User));
            Assert.Contains("PLAIN", client.AuthenticationMechanisms);
            await client.AuthenticateAsync(Alice, Pop3TestServer.Password);
            Assert.Equal(0, client.Count);
            await client.DisconnectAsync(true);
        }
    }

    [Fact]
    public async Task ListStatAndRetrAgreeOnTheSizeOfAMessageAppendedWithoutAFinalLineBreak()
    {
        await using var server = await Pop3TestServer.StartAsync(withImap: true);
        var alice = await server.AddUserAsync(Alice);
        // MailKit's APPEND always ends the message with a line break, so the APPEND is sent by hand.
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", server.ImapPort);
            using var imap = new RawImapClient(tcp);
            Assert.StartsWith("* OK", await imap.ReadLineAsync(), StringComparison.Ordinal);
            await imap.SendAsync($"a LOGIN {Alice} \"{Pop3TestServer.Password}\"\r\n");
            Assert.StartsWith("a OK", (await imap.ReadUntilTaggedAsync("a"))[^1], StringComparison.Ordinal);
            var message = "From: bob@example.test\r\nSubject: No final line break\r\n\r\nThe last line ends here."u8.ToArray();
            await imap.SendAsync($"b APPEND INBOX {{{message.Length}+}}\r\n");
            await imap.SendAsync([.. message, .. "\r\n"u8]);
            Assert.StartsWith("b OK", (await imap.ReadUntilTaggedAsync("b"))[^1], StringComparison.Ordinal);
        }

        // Bare LFs as a script's APPEND may store them: RETR sends each as CRLF.
        await server.DeliverAsync(alice, "From: bob@example.test\nSubject: Bare LF\n\nline one\nline two");
        var stored = await server.Store.Mail.ReadMessageContentAsync((await server.InboxAsync(alice)).Id, 1, CancellationToken.None);
        Assert.False(stored.AsSpan().EndsWith("\r\n"u8), "the IMAP APPEND added a final CRLF: nothing to test");

        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync(Alice, Pop3TestServer.Password);
        var listed = await client.GetMessageSizesAsync();
        long retrieved = 0;
        for (var i = 0; i < client.Count; i++)
        {
            using var content = await client.GetStreamAsync(i);
            var octets = await CountAsync(content);
            Assert.Equal(octets, await client.GetMessageSizeAsync(i));
            Assert.Equal(octets, listed[i]);
            retrieved += octets;
        }

        Assert.Equal(2, client.Count);
        Assert.Equal(retrieved, client.Size);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task AMessageStoredBeforeCrlfSizesWereKeptIsMeasuredOnceAndRemembered()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        var stored = await server.DeliverAsync(alice, "From: bob@example.test\nSubject: Old\n\nstored before the migration");
        Assert.Equal(1, await server.Store.Database.WriteAsync(w => w.Command("UPDATE messages SET crlf_size = NULL").Execute(), CancellationToken.None));

        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync(Alice, Pop3TestServer.Password);
        using var content = await client.GetStreamAsync(0);
        var size = await client.GetMessageSizeAsync(0);
        Assert.Equal(await CountAsync(content), size);
        await client.DisconnectAsync(true);

        // Kept, so the next login does not read the maildrop again to list it.
        var inbox = await server.InboxAsync(alice);
        var record = Assert.Single(await server.Store.Mail.ListMessagesAsync(inbox.Id, CancellationToken.None));
        Assert.Equal(stored.Uid, record.Uid);
        Assert.Equal(size, record.CrlfSize);
    }

    [Fact]
    public async Task UidlIsStableAcrossSessions()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        for (var i = 1; i <= 3; i++)
        {
            await server.DeliverAsync(alice, Pop3TestServer.Message(i));
        }

        var first = await UidsAsync(server);
        Assert.Equal(3, first.Count);
        Assert.Equal(3, first.Distinct().Count());
        Assert.All(first, uid => Assert.Matches("^[0-9]+\\.[0-9]+$", uid));
        Assert.Equal(first, await UidsAsync(server));

        // After message 1 is gone, the others keep their ids even though their numbers shift.
        using (var client = NewClient())
        {
            await client.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
            await client.AuthenticateAsync(Alice, Pop3TestServer.Password);
            await client.DeleteMessageAsync(0);
            await client.DisconnectAsync(true);
        }

        await server.WaitForLocksReleasedAsync();
        Assert.Equal(first.Skip(1), await UidsAsync(server));
    }

    [Fact]
    public async Task DeleThenQuitRemovesTheMessage()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1));
        await server.DeliverAsync(alice, Pop3TestServer.Message(2));

        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync(Alice, Pop3TestServer.Password);
        await client.DeleteMessageAsync(0);

        // Marked only: nothing leaves the store before QUIT.
        Assert.Equal(2, await server.CountAsync(alice));
        await client.DisconnectAsync(true);

        Assert.Equal(1, await server.CountAsync(alice));
        var left = await server.Store.Mail.ListMessagesAsync((await server.InboxAsync(alice)).Id, CancellationToken.None);
        Assert.Equal(2, left.Single().Uid);
    }

    [Fact]
    public async Task DeleThenDisconnectWithoutQuitKeepsTheMessage()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1));

        using (var client = NewClient())
        {
            await client.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
            await client.AuthenticateAsync(Alice, Pop3TestServer.Password);
            await client.DeleteMessageAsync(0);
            await client.DisconnectAsync(false);
        }

        await server.WaitForLocksReleasedAsync();
        Assert.Equal(1, await server.CountAsync(alice));

        // And the lock went with the connection: a new session gets in.
        using var again = NewClient();
        await again.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await again.AuthenticateAsync(Alice, Pop3TestServer.Password);
        Assert.Equal(1, again.Count);
    }

    [Fact]
    public async Task SecondSessionOnTheSameMaildropIsRefused()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1));

        using var first = NewClient();
        await first.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await first.AuthenticateAsync(Alice, Pop3TestServer.Password);

        using var second = NewClient();
        await second.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await Assert.ThrowsAsync<AuthenticationException>(() => second.AuthenticateAsync(Alice, Pop3TestServer.Password));

        // The exact reply, RFC 2449 §8.1.1.
        await using (var raw = await Pop3RawClient.ConnectAsync(server.StartTlsPort))
        {
            Assert.StartsWith("+OK", await raw.CommandAsync("USER " + Alice));
            Assert.StartsWith("-ERR [IN-USE]", await raw.CommandAsync("PASS " + Pop3TestServer.Password));

            // Still in AUTHORIZATION (RFC 1939 §4): transaction commands are refused.
            Assert.StartsWith("-ERR", await raw.CommandAsync("STAT"));
        }

        await first.DisconnectAsync(true);
        await server.WaitForLocksReleasedAsync();
        using var third = NewClient();
        await third.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await third.AuthenticateAsync(Alice, Pop3TestServer.Password);
        Assert.Equal(1, third.Count);
    }

    [Fact]
    public async Task WrongPasswordIsRefused()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);
        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync(Alice, "wrong"));
    }

    private static async Task<List<string>> UidsAsync(Pop3TestServer server)
    {
        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync(Alice, Pop3TestServer.Password);
        var uids = (await client.GetMessageUidsAsync()).ToList();
        await client.DisconnectAsync(true);
        await server.WaitForLocksReleasedAsync();
        return uids;
    }

    private static async Task<long> CountAsync(Stream stream)
    {
        var buffer = new byte[4096];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static Pop3Client NewClient() => new()
    {
        ServerCertificateValidationCallback = TestCertificates.Shared.Validate,
        CheckCertificateRevocation = false,
        Timeout = 15000,
    };
}
