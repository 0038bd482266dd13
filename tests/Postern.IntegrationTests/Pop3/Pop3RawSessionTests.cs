using System.Text;
using Postern.Server.Pop3;
using Postern.Store;

namespace Postern.IntegrationTests.Pop3;

/// <summary>Byte-exact sessions: replies, bad input, pipelining across STLS, streaming, the maildrop snapshot.</summary>
public sealed class Pop3RawSessionTests
{
    private const string Alice = "alice@example.test";

    [Fact]
    public async Task CommandPipelinedAfterStlsNeverRuns()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);

        // CAPA rides in the same packet as STLS; it must be discarded with the clear-text pipe.
        await client.SendAsync("STLS\r\nCAPA\r\n");
        Assert.StartsWith("+OK", await client.ReadLineAsync());
        await client.UpgradeAsync();

        // Had CAPA run, its "+OK Capability list follows" would come first.
        Assert.Equal("-ERR Not logged in", await client.CommandAsync("NOOP"));
        Assert.StartsWith("+OK", await client.CommandAsync("CAPA"));
        var capabilities = await client.ReadMultiLineAsync();
        Assert.DoesNotContain("STLS", capabilities);
        Assert.Contains("USER", capabilities);
        Assert.StartsWith("-ERR", await client.CommandAsync("STLS"));
    }

    [Fact]
    public async Task UserPipelinedAcrossStlsIsForgotten()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);

        Assert.StartsWith("+OK", await client.CommandAsync("USER " + Alice));
        await client.SendAsync("STLS\r\nUSER mallory@example.test\r\n");
        Assert.StartsWith("+OK", await client.ReadLineAsync());
        await client.UpgradeAsync();

        // RFC 2595 §4: the session starts over; neither USER (before or after STLS) is remembered.
        Assert.Equal("-ERR No USER given", await client.CommandAsync("PASS " + Pop3TestServer.Password));
        await client.LoginAsync(Alice);
    }

    [Fact]
    public async Task BadInputGetsErrorsAndTheSessionSurvives()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);

        Assert.Equal("-ERR Unknown command", await client.CommandAsync("HELO example.test"));
        Assert.Equal("-ERR Empty command", await client.CommandAsync(""));
        Assert.Equal("-ERR Invalid arguments", await client.CommandAsync("USER"));
        Assert.Equal("-ERR Invalid characters in command", await client.CommandAsync("US\u0001ER x"));
        Assert.Equal("-ERR Not logged in", await client.CommandAsync("RETR 1"));
        Assert.Equal("-ERR No USER given", await client.CommandAsync("PASS x"));

        // RFC 2449 §4: 255 octets per command; longer is refused and skipped to its end.
        Assert.Equal("-ERR Line too long", await client.CommandAsync("USER " + new string('a', 400)));

        // A flood without any line end is cut off without buffering it.
        await client.SendAsync(new string('x', 200_000));
        Assert.Equal("-ERR Line too long", await client.ReadLineAsync());
        await client.SendAsync("\r\n");

        Assert.StartsWith("+OK", await client.CommandAsync("CAPA"));
        Assert.Contains("UIDL", await client.ReadMultiLineAsync());
        await client.LoginAsync(Alice);
        Assert.Equal("+OK 0 0", await client.CommandAsync("STAT"));
    }

    [Fact]
    public async Task TooManyBadCommandsCloseTheConnection()
    {
        await using var server = await Pop3TestServer.StartAsync(vs => vs with { Limits = vs.Limits with { MaxBadCommands = 3 } });
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("-ERR Unknown command", await client.CommandAsync("XYZZY"));
        }

        Assert.StartsWith("-ERR Unknown command; too many bad commands", await client.CommandAsync("XYZZY"));
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task RepeatedLoginFailuresCloseTheConnection()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        for (var i = 0; i < 2; i++)
        {
            Assert.StartsWith("+OK", await client.CommandAsync("USER " + Alice));
            Assert.Equal("-ERR [AUTH] Authentication failed", await client.CommandAsync("PASS wrong"));
        }

        Assert.StartsWith("+OK", await client.CommandAsync("USER " + Alice));
        Assert.StartsWith("-ERR [AUTH] Authentication failed; closing", await client.CommandAsync("PASS wrong"));
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task QuitBeforeLoginSaysGoodbyeAndCloses()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        Assert.StartsWith("+OK", await client.CommandAsync("QUIT"));
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task TransactionCommands()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        var m1 = Pop3TestServer.Message(1, "Body one.");
        var m2 = Pop3TestServer.Message(2, "Body two.\r\nSecond line.\r\nThird line.");
        var first = await server.DeliverAsync(alice, m1);
        var second = await server.DeliverAsync(alice, m2);
        var size = Encoding.UTF8.GetByteCount(m1) + Encoding.UTF8.GetByteCount(m2);

        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        await client.LoginAsync(Alice);

        Assert.Equal($"+OK 2 {size}", await client.CommandAsync("STAT"));
        Assert.Equal($"+OK 2 messages ({size} octets)", await client.CommandAsync("LIST"));
        Assert.Equal([$"1 {Encoding.UTF8.GetByteCount(m1)}", $"2 {Encoding.UTF8.GetByteCount(m2)}"], await client.ReadMultiLineAsync());
        Assert.Equal($"+OK 2 {Encoding.UTF8.GetByteCount(m2)}", await client.CommandAsync("LIST 2"));
        Assert.Equal("-ERR No such message", await client.CommandAsync("LIST 3"));
        Assert.Equal("-ERR No such message", await client.CommandAsync("RETR 0"));
        Assert.Equal("-ERR No such message", await client.CommandAsync("RETR 99999999999999999999"));

        Assert.StartsWith("+OK", await client.CommandAsync("UIDL"));
        Assert.Equal([$"1 {first.UidValidity}.{first.Uid}", $"2 {second.UidValidity}.{second.Uid}"], await client.ReadMultiLineAsync());
        Assert.Equal($"+OK 2 {second.UidValidity}.{second.Uid}", await client.CommandAsync("UIDL 2"));

        Assert.StartsWith("+OK", await client.CommandAsync("RETR 1"));
        Assert.Equal(m1, string.Join("\r\n", await client.ReadMultiLineAsync()) + "\r\n");

        Assert.StartsWith("+OK", await client.CommandAsync("TOP 2 1"));
        var top = await client.ReadMultiLineAsync();
        Assert.Equal("Body two.", top[^1]);
        Assert.Equal("", top[^2]);

        Assert.Equal("+OK Message 1 deleted", await client.CommandAsync("DELE 1"));
        Assert.Equal("-ERR Message 1 already deleted", await client.CommandAsync("DELE 1"));
        Assert.Equal("-ERR Message 1 already deleted", await client.CommandAsync("RETR 1"));
        Assert.Equal("-ERR Message 1 already deleted", await client.CommandAsync("UIDL 1"));
        Assert.Equal($"+OK 1 {Encoding.UTF8.GetByteCount(m2)}", await client.CommandAsync("STAT"));
        Assert.StartsWith("+OK", await client.CommandAsync("LIST"));
        Assert.Equal([$"2 {Encoding.UTF8.GetByteCount(m2)}"], await client.ReadMultiLineAsync());

        Assert.Equal($"+OK Maildrop has 2 messages ({size} octets)", await client.CommandAsync("RSET"));
        Assert.Equal($"+OK 2 {size}", await client.CommandAsync("STAT"));
        Assert.Equal("+OK", await client.CommandAsync("NOOP"));

        // Authorization-state commands are over.
        Assert.Equal("-ERR Not allowed after login", await client.CommandAsync("USER " + Alice));
        Assert.Equal("-ERR Not allowed after login", await client.CommandAsync("STLS"));
        Assert.Equal("-ERR Not allowed after login", await client.CommandAsync("AUTH PLAIN"));

        Assert.StartsWith("+OK", await client.CommandAsync("DELE 2"));
        Assert.Equal("+OK Postern POP3 server signing off (1 messages left)", await client.CommandAsync("QUIT"));
        Assert.True(await client.IsClosedAsync());
        var left = await server.Store.Mail.ListMessagesAsync((await server.InboxAsync(alice)).Id, CancellationToken.None);
        Assert.Equal(first.Uid, left.Single().Uid);
    }

    [Fact]
    public async Task PipelinedTransactionCommandsAnswerInOrder()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1));
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);

        await client.SendAsync($"USER {Alice}\r\nPASS {Pop3TestServer.Password}\r\nSTAT\r\nLIST\r\nRETR 1\r\nNOOP\r\nQUIT\r\n");
        Assert.StartsWith("+OK", await client.ReadLineAsync());
        Assert.StartsWith("+OK Logged in", await client.ReadLineAsync());
        Assert.StartsWith("+OK 1 ", await client.ReadLineAsync());
        Assert.StartsWith("+OK 1 messages", await client.ReadLineAsync());
        Assert.Single(await client.ReadMultiLineAsync());
        Assert.StartsWith("+OK", await client.ReadLineAsync());
        Assert.Contains("Subject: Message 1", await client.ReadMultiLineAsync());
        Assert.Equal("+OK", await client.ReadLineAsync());
        Assert.StartsWith("+OK Postern POP3 server signing off", await client.ReadLineAsync());
    }

    [Fact]
    public async Task RetrDotStuffsOnTheWire()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, "Subject: dots\r\n\r\n.\r\n.leading\r\n..two\r\nlast");
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        await client.LoginAsync(Alice);

        Assert.StartsWith("+OK", await client.CommandAsync("RETR 1"));
        Assert.Equal("Subject: dots\r\n\r\n..\r\n..leading\r\n...two\r\nlast\r\n.\r\n", await client.ReadRawMultiLineAsync());
        Assert.StartsWith("+OK", await client.CommandAsync("TOP 1 2"));
        Assert.Equal("Subject: dots\r\n\r\n..\r\n..leading\r\n.\r\n", await client.ReadRawMultiLineAsync());
        Assert.StartsWith("+OK", await client.CommandAsync("TOP 1 0"));
        Assert.Equal("Subject: dots\r\n\r\n.\r\n", await client.ReadRawMultiLineAsync());
    }

    [Fact]
    public async Task LargeMessageStreamsInChunksIntact()
    {
        // A small chunk size makes every line boundary and dot fall across chunks somewhere.
        await using var server = await Pop3TestServer.StartAsync(vs => vs with
        {
            Settings = new Dictionary<string, string> { [Pop3Options.ChunkSizeSetting] = "1000" },
        });
        var alice = await server.AddUserAsync(Alice);
        var body = new StringBuilder();
        var random = new Random(1939);
        for (var i = 0; i < 20_000; i++)
        {
            body.Append(random.Next(4) == 0 ? "." : "").Append(new string((char)('a' + (i % 26)), random.Next(0, 120))).Append("\r\n");
        }

        var content = "Subject: big\r\n\r\n" + body;
        await server.DeliverAsync(alice, content);
        await using var client = await Pop3RawClient.ConnectAsync(server.ImplicitTlsPort, implicitTls: true);
        await client.LoginAsync(Alice);
        Assert.Equal($"+OK {Encoding.UTF8.GetByteCount(content)} octets", await client.CommandAsync("RETR 1"));
        Assert.Equal(content, string.Join("\r\n", await client.ReadMultiLineAsync()) + "\r\n");
        Assert.Equal("+OK", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task MaildropIsASnapshotTakenAtLogin()
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        var first = await server.DeliverAsync(alice, Pop3TestServer.Message(1));
        await server.DeliverAsync(alice, Pop3TestServer.Message(2));
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        await client.LoginAsync(Alice);
        Assert.StartsWith("+OK 2 ", await client.CommandAsync("STAT"));

        // New mail after login is not seen in this session (RFC 1939 §8: numbers and sizes stay fixed).
        await server.DeliverAsync(alice, Pop3TestServer.Message(3));
        Assert.StartsWith("+OK 2 ", await client.CommandAsync("STAT"));

        // Another client (IMAP, say) expunges message 1: RETR and TOP answer -ERR, the session goes on.
        var inbox = await server.InboxAsync(alice);
        await server.Store.Mail.ExpungeAsync(inbox.Id, [first.Uid], onlyDeleted: false, CancellationToken.None);
        Assert.Equal("-ERR Message 1 no longer exists", await client.CommandAsync("RETR 1"));
        Assert.Equal("-ERR Message 1 no longer exists", await client.CommandAsync("TOP 1 0"));
        Assert.StartsWith("+OK", await client.CommandAsync("RETR 2"));
        Assert.Contains("Subject: Message 2", await client.ReadMultiLineAsync());

        // Deleting a message that is already gone is harmless at QUIT.
        Assert.StartsWith("+OK", await client.CommandAsync("DELE 1"));
        Assert.StartsWith("+OK Postern POP3 server signing off", await client.CommandAsync("QUIT"));
        Assert.Equal(2, await server.CountAsync(alice));
    }

    [Fact]
    public async Task AutologoutInTransactionDeletesNothing()
    {
        await using var server = await Pop3TestServer.StartAsync(vs => vs with { Limits = vs.Limits with { IdleTimeoutSeconds = 1, AuthenticatedIdleTimeoutSeconds = 1 } });
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1));
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        await client.LoginAsync(Alice);
        Assert.StartsWith("+OK", await client.CommandAsync("DELE 1"));

        Assert.Equal("-ERR Autologout; idle for too long", await client.ReadLineAsync(timeoutSeconds: 10));
        Assert.True(await client.IsClosedAsync());
        await server.WaitForLocksReleasedAsync();
        Assert.Equal(1, await server.CountAsync(alice));
    }

    [Fact]
    public async Task SaslPlainWithAndWithoutInitialResponse()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{Alice}\0{Pop3TestServer.Password}"));

        await using (var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort))
        {
            Assert.StartsWith("+OK Logged in", await client.CommandAsync("AUTH PLAIN " + credentials));
            Assert.StartsWith("+OK", await client.CommandAsync("QUIT"));
        }

        await server.WaitForLocksReleasedAsync();
        await using (var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort))
        {
            // RFC 5034 §4: an empty challenge is "+ ".
            Assert.Equal("+ ", await client.CommandAsync("AUTH PLAIN"));
            Assert.StartsWith("+OK Logged in", await client.CommandAsync(credentials));
            Assert.StartsWith("+OK", await client.CommandAsync("QUIT"));
        }
    }

    [Fact]
    public async Task SaslEdgeCases()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);

        Assert.Equal("+OK Methods supported", await client.CommandAsync("AUTH"));
        Assert.Equal(["PLAIN", "LOGIN"], await client.ReadMultiLineAsync());
        Assert.Equal("-ERR Unsupported authentication mechanism", await client.CommandAsync("AUTH CRAM-MD5"));
        Assert.Equal("-ERR APOP is not supported", await client.CommandAsync("APOP alice@example.test c4c9334bac560ecc979e58001b3e22fb"));

        // EXTERNAL is offered only over TLS with a client certificate.
        Assert.Equal("-ERR Unsupported authentication mechanism", await client.CommandAsync("AUTH EXTERNAL ="));

        // RFC 5034 §4: "*" cancels.
        Assert.Equal("+ ", await client.CommandAsync("AUTH PLAIN"));
        Assert.Equal("-ERR Authentication cancelled", await client.CommandAsync("*"));

        Assert.Equal("-ERR [AUTH] Invalid SASL PLAIN response", await client.CommandAsync("AUTH PLAIN !!!notbase64"));
        Assert.Equal("-ERR [AUTH] Authentication failed", await client.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{Alice}\0nope"))));

        // LOGIN: "Username:" and "Password:" challenges.
        Assert.Equal("+ VXNlcm5hbWU6", await client.CommandAsync("AUTH LOGIN"));
        Assert.Equal("+ UGFzc3dvcmQ6", await client.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Alice))));
        Assert.StartsWith("+OK Logged in", await client.CommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(Pop3TestServer.Password))));
    }

    [Fact]
    public async Task ProxyAuthorizationIdentityIsRefused()
    {
        await using var server = await Pop3TestServer.StartAsync();
        await server.AddUserAsync(Alice);
        await server.AddUserAsync("bob@example.test");
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort);
        var asBob = Convert.ToBase64String(Encoding.UTF8.GetBytes($"bob@example.test\0{Alice}\0{Pop3TestServer.Password}"));
        Assert.StartsWith("-ERR [AUTH]", await client.CommandAsync("AUTH PLAIN " + asBob));
    }

    [Fact]
    public async Task DefaultsMatchTheIssue()
    {
        var server = Assert.Single(Pop3Defaults.Create("mail.example.test"));
        Assert.Equal("Default POP3 Virtual Server", server.Name);
        Assert.Equal(ServiceProtocol.Pop3, server.Protocol);
        Assert.Equal("mail.example.test", server.ServerName);
        Assert.Contains(new Binding("127.0.0.1", 110, BindingMode.StartTls), server.Bindings);
        Assert.Contains(new Binding("127.0.0.1", 995, BindingMode.ImplicitTls), server.Bindings);
        Assert.True(server.Limits.IdleTimeoutSeconds >= 600);
        Assert.True(server.Limits.AuthenticatedIdleTimeoutSeconds >= 600);
        Assert.Equal(255, server.Limits.MaxLineLength);

        // The record round-trips through the configuration store.
        await using var test = await Pop3TestServer.StartAsync();
        var saved = await test.Store.Configuration.SaveVirtualServerAsync(server, CancellationToken.None);
        Assert.True(saved.IsOk, saved.Message);
        var loaded = await test.Store.Configuration.FindVirtualServerAsync("Default POP3 Virtual Server", CancellationToken.None);
        Assert.Equal(server.Bindings, loaded!.Bindings);
    }
}
