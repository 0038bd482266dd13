using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Postern.IntegrationTests.Infrastructure;
using Postern.Store;
using static Postern.IntegrationTests.Smtp.SmtpTestServer;

namespace Postern.IntegrationTests.Smtp;

public sealed class SmtpSessionTests
{
    private static MimeMessage Message(string from, string to, string subject, string body = "Hello there.")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }

    private static SmtpClient NewClient() => new()
    {
        ServerCertificateValidationCallback = TestCertificates.Shared.Validate,
        CheckCertificateRevocation = false,
        Timeout = 15_000,
    };

    [Fact]
    public async Task SubmissionWithStartTlsAndAuthDeliversToTheLocalInbox()
    {
        await using var server = await StartAsync();
        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf(Submission, BindingMode.StartTls), SecureSocketOptions.StartTls);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
        Assert.Contains("PLAIN", client.AuthenticationMechanisms);
        await client.AuthenticateAsync("alice@example.test", Password);
        var message = Message("alice@example.test", "bob@example.test", "submitted");
        message.Headers.Remove(HeaderId.MessageId);
        message.Headers.Remove(HeaderId.Date);
        await client.SendAsync(message);
        await client.DisconnectAsync(true);

        var inbox = await InboxAsync(server, "bob@example.test");
        var stored = Assert.Single(inbox);
        var text = Encoding.UTF8.GetString(stored);
        // RFC 5321 §4.4: final delivery puts the reverse-path in front, then this server's Received.
        Assert.StartsWith("Return-Path: <alice@example.test>\r\nReceived: from ", text);
        Assert.Contains("with ESMTPSA id", text);
        Assert.Contains("(using TLSv1.", text);
        var parsed = MimeMessage.Load(new MemoryStream(stored));
        Assert.Equal("submitted", parsed.Subject);
        Assert.False(string.IsNullOrEmpty(parsed.MessageId));
        Assert.NotNull(parsed.Headers[HeaderId.Date]);
        Assert.Equal("Hello there.", Assert.IsType<TextPart>(parsed.Body).Text.Trim());
    }

    [Fact]
    public async Task ImplicitTlsSubmissionWorks()
    {
        await using var server = await StartAsync();
        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf(Submission, BindingMode.ImplicitTls), SecureSocketOptions.SslOnConnect);
        await client.AuthenticateAsync("alice@example.test", Password);
        await client.SendAsync(Message("alice@example.test", "bob@example.test", "implicit"));
        await client.DisconnectAsync(true);
        Assert.Single(await InboxAsync(server, "bob@example.test"));
    }

    [Fact]
    public async Task SubmissionRefusesAuthBeforeStartTlsAndDoesNotAdvertiseIt()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Submission, BindingMode.StartTls));
        var ehlo = await raw.CommandAsync("EHLO client.test");
        Assert.Contains("STARTTLS", ehlo);
        Assert.DoesNotContain("AUTH", ehlo);
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice@example.test\0" + Password));
        Assert.StartsWith("530 5.7.0", await raw.CommandAsync("AUTH PLAIN " + plain));
        Assert.StartsWith("530 5.7.0", await raw.CommandAsync("MAIL FROM:<alice@example.test>"));

        await raw.CommandAsync("STARTTLS");
        await raw.StartTlsAsync();
        var secureEhlo = await raw.CommandAsync("EHLO client.test");
        Assert.Contains("AUTH PLAIN LOGIN", secureEhlo);
        Assert.DoesNotContain("STARTTLS", secureEhlo);
        Assert.StartsWith("530 5.7.0", await raw.CommandAsync("MAIL FROM:<alice@example.test>"));
        Assert.StartsWith("535 5.7.8", await raw.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice@example.test\0wrong"))));
        Assert.StartsWith("235 2.7.0", await raw.CommandAsync("AUTH PLAIN " + plain));
        Assert.StartsWith("553 5.7.1", await raw.CommandAsync("MAIL FROM:<bob@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<someone@elsewhere.test>"));
    }

    [Fact]
    public async Task RelayIsRefusedForUnauthenticatedForeignRecipients()
    {
        await using var server = await StartAsync();
        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf(Inbound, BindingMode.StartTls), SecureSocketOptions.StartTls);
        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Message("x@outside.test", "victim@foreign.test", "spam")));
        Assert.Equal(SmtpErrorCode.RecipientNotAccepted, error.ErrorCode);
        Assert.Equal(554, (int)error.StatusCode);

        // Unknown local user: 550 5.1.1 at RCPT time.
        await client.DisconnectAsync(true);
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.CommandAsync("MAIL FROM:<x@outside.test>");
        Assert.StartsWith("550 5.1.1", await raw.CommandAsync("RCPT TO:<nobody@example.test>"));
        Assert.StartsWith("554 5.7.1", await raw.CommandAsync("RCPT TO:<victim@foreign.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<Alice@Example.test>"));
        Assert.Empty(await server.Store.Queue.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ConfiguredRelayAddressMayRelayAndTheMessageIsQueued()
    {
        await using var server = await StartAsync("example.test", InboundServer(relay: ["127.0.0.0/8"]));
        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf(Inbound, BindingMode.StartTls), SecureSocketOptions.None);
        await client.SendAsync(Message("alice@example.test", "friend@foreign.test", "relayed"));
        await client.DisconnectAsync(true);
        var queued = Assert.Single(await server.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal("alice@example.test", queued.Sender);
        Assert.Equal("friend@foreign.test", Assert.Single(queued.Recipients).Address);
    }

    [Fact]
    public async Task SizeLimitIsEnforcedDeclaredAndWhileStreaming()
    {
        await using var server = await StartAsync("example.test", InboundServer(new ConnectionLimits { MaxMessageSize = 10_000 }));
        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf(Inbound, BindingMode.StartTls), SecureSocketOptions.None);
        Assert.Equal(10_000u, client.MaxSize);
        var big = Message("x@outside.test", "bob@example.test", "big", new string('x', 70) + string.Concat(Enumerable.Repeat("\n" + new string('y', 70), 300)));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync(big));
        Assert.True(error is SmtpCommandException { StatusCode: SmtpStatusCode.ExceededStorageAllocation } or NotSupportedException or InvalidOperationException, error.ToString());
        await client.DisconnectAsync(true);

        // Undeclared: the limit holds while the data streams, and the session stays usable.
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        Assert.StartsWith("552 5.3.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> SIZE=20000"));

        // RFC 1870 §3: size-value is up to 20 digits, more than a long holds; such a size is too big, not a syntax error.
        Assert.StartsWith("552 5.3.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> SIZE=99999999999999999999"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> SIZE=999999999999999999999"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> SIZE=-1"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        var body = new StringBuilder("Subject: big\r\n\r\n");
        for (var i = 0; i < 300; i++)
        {
            body.Append(new string('z', 70)).Append("\r\n");
        }

        Assert.StartsWith("552 5.3.4", await raw.CommandAsync(body + "."));
        Assert.StartsWith("250", await raw.CommandAsync("NOOP"));
        Assert.Empty(await InboxAsync(server, "bob@example.test"));
    }

    [Fact]
    public async Task UnknownParametersGet555AndBadValuesOfKnownOnes501()
    {
        await using var server = await SmtpTestServer.StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        Assert.StartsWith("555 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> FOO=bar"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> RET=SOMETIMES"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test> RET=HDRS"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("RCPT TO:<bob@example.test> NOTIFY=BOGUS"));
        Assert.StartsWith("555 5.5.4", await raw.CommandAsync("RCPT TO:<bob@example.test> XYZZY"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE"));
    }

    [Fact]
    public async Task BdatChunksAreAssembled()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        Assert.Contains("CHUNKING", await raw.CommandAsync("EHLO client.test"));
        await raw.WriteAsync("MAIL FROM:<x@outside.test>\r\nRCPT TO:<bob@example.test>\r\n");
        Assert.StartsWith("250", await raw.ReadReplyAsync());
        Assert.StartsWith("250", await raw.ReadReplyAsync());
        var part1 = "Subject: chunks\r\n\r\nfirst ";
        var part2 = "second\r\n.\r\nnot a terminator\r\n";
        await raw.WriteAsync($"BDAT {Encoding.UTF8.GetByteCount(part1)}\r\n{part1}BDAT {Encoding.UTF8.GetByteCount(part2)} LAST\r\n{part2}");
        Assert.StartsWith("250 2.0.0 " + Encoding.UTF8.GetByteCount(part1), await raw.ReadReplyAsync());
        Assert.StartsWith("250 2.0.0 Ok", await raw.ReadReplyAsync());

        // BDAT out of sequence: the chunk is still consumed, so the session stays in step.
        await raw.WriteAsync("BDAT 6\r\nNOOP\r\n");
        Assert.StartsWith("503", await raw.ReadReplyAsync());
        Assert.StartsWith("250 2.0.0 Ok", await raw.CommandAsync("NOOP"));

        var stored = Encoding.UTF8.GetString(Assert.Single(await InboxAsync(server, "bob@example.test")));
        Assert.EndsWith("Subject: chunks\r\n\r\nfirst second\r\n.\r\nnot a terminator\r\n", stored);
        Assert.Contains("with ESMTP id", stored);
    }

    [Theory]
    [InlineData("Subject: bare lf\nbody\r\n")]
    [InlineData("Subject: bare cr\r\rbody\r\n")]
    [InlineData("Subject: split\r\n\r\nbody\r")]
    public async Task BdatRefusesABareCrOrLfAsDataDoes(string message)
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.WriteAsync("MAIL FROM:<x@outside.test>\r\nRCPT TO:<bob@example.test>\r\n");
        Assert.StartsWith("250", await raw.ReadReplyAsync());
        Assert.StartsWith("250", await raw.ReadReplyAsync());

        // The last chunk's CR and the LF that never comes are split over two chunks here too.
        var half = message.Length / 2;
        await raw.WriteAsync($"BDAT {half}\r\n{message[..half]}BDAT {message.Length - half} LAST\r\n{message[half..]}");
        Assert.StartsWith("250", await raw.ReadReplyAsync());
        Assert.StartsWith("550 5.6.0", await raw.ReadReplyAsync());
        Assert.StartsWith("250", await raw.CommandAsync("NOOP"));
        Assert.Empty(await InboxAsync(server, "bob@example.test"));
    }

    [Fact]
    public async Task ABdatMessageWhoseLastLineLacksItsCrlfIsStoredWithOne()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.WriteAsync("MAIL FROM:<>\r\nRCPT TO:<bob@example.test>\r\n");
        Assert.StartsWith("250", await raw.ReadReplyAsync());
        Assert.StartsWith("250", await raw.ReadReplyAsync());
        await raw.WriteAsync("BDAT 21 LAST\r\nSubject: tail\r\n\r\nend.");
        Assert.StartsWith("250 2.0.0 Ok", await raw.ReadReplyAsync());

        // RFC 5321 §4.4: the null reverse-path is recorded too.
        var stored = Encoding.UTF8.GetString(Assert.Single(await InboxAsync(server, "bob@example.test")));
        Assert.StartsWith("Return-Path: <>\r\nReceived: from client.test", stored);
        Assert.EndsWith("Subject: tail\r\n\r\nend.\r\n", stored);
    }

    [Fact]
    public async Task AMessageThatDoesNotFitTheQuotaIsRefusedAfterDataWhenNoSizeWasDeclared()
    {
        await using var server = await StartAsync();
        Assert.True(await server.Store.Directory.SetQuotaAsync("bob@example.test", 2048, CancellationToken.None));
        var big = "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 70) + "\r\n", 100));
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        Assert.StartsWith("552 5.2.2", await raw.CommandAsync(big + "."));
        Assert.Empty(await InboxAsync(server, "bob@example.test"));

        // With a recipient it fits as well, the message is delivered there and the sender learns of the full mailbox.
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<alice@example.test>"));
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok", await raw.CommandAsync(big + "."));
        Assert.Empty(await InboxAsync(server, "bob@example.test"));
        var alice = (await InboxAsync(server, "alice@example.test")).Select(m => Encoding.UTF8.GetString(m)).ToList();
        Assert.Equal(2, alice.Count);
        var report = Assert.Single(alice, m => m.Contains("multipart/report", StringComparison.Ordinal));
        Assert.Contains("Final-Recipient: rfc822; bob@example.test", report, StringComparison.Ordinal);
        Assert.Contains("Status: 5.2.2", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MailKitCanSendWithBdatAndDsnParameters()
    {
        await using var server = await StartAsync();
        using var client = NewClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf(Inbound, BindingMode.StartTls), SecureSocketOptions.StartTls);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Chunking));
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Dsn));
        var message = Message("x@outside.test", "bob@example.test", "via mailkit");
        message.Body = new TextPart("plain") { Text = ".leading dot\r\n..two dots\r\n." };
        await client.SendAsync(message);
        await client.DisconnectAsync(true);
        var parsed = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(server, "bob@example.test"))));
        Assert.Equal(".leading dot\n..two dots\n.", Assert.IsType<TextPart>(parsed.Body).Text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n'));
    }

    [Fact]
    public async Task DataIsDotUnstuffedAndStoredWithAReceivedHeader()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.WriteAsync("MAIL FROM:<x@outside.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
        Assert.StartsWith("250", await raw.ReadReplyAsync());
        Assert.StartsWith("250", await raw.ReadReplyAsync());
        Assert.StartsWith("354", await raw.ReadReplyAsync());
        Assert.StartsWith("250 2.0.0 Ok: queued as", await raw.CommandAsync("Subject: raw\r\n\r\n..dot\r\nline\r\n."));
        var stored = Encoding.UTF8.GetString(Assert.Single(await InboxAsync(server, "bob@example.test")));
        Assert.Matches("^Return-Path: <x@outside\\.test>\r\nReceived: from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\)\r\n\tby mx\\.example\\.test \\(Postern\\) with ESMTP id [0-9A-F]+\r\n\tfor <bob@example\\.test>; ", stored);
        Assert.EndsWith("\r\nSubject: raw\r\n\r\n.dot\r\nline\r\n", stored);
    }

    [Theory]
    [InlineData("\n.\n")]
    [InlineData("\r.\r")]
    [InlineData("\r\n.\n")]
    [InlineData("\n.\r\n")]
    public async Task SmugglingAttemptIsRefusedAndTheSmuggledCommandsNeverRun(string fakeEnd)
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.CommandAsync("MAIL FROM:<x@outside.test>");
        await raw.CommandAsync("RCPT TO:<bob@example.test>");
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        await raw.WriteAsync("Subject: outer\r\n\r\nbody" + fakeEnd
            + "MAIL FROM:<admin@example.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n");
        var reply = await raw.ReadReplyAsync();
        Assert.StartsWith("550 5.6.0", reply);
        Assert.True(System.Text.Ascii.IsValid(reply), reply); // RFC 5321 §4.2: reply text is printable ASCII
        Assert.StartsWith("250 2.0.0 Ok", await raw.CommandAsync("NOOP"));
        Assert.Empty(await InboxAsync(server, "bob@example.test"));
        Assert.Empty(await InboxAsync(server, "alice@example.test"));
    }

    [Fact]
    public async Task CommandPipelinedAfterStartTlsNeverExecutes()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.WriteAsync("STARTTLS\r\nMAIL FROM:<evil@outside.test>\r\nNOOP\r\n");
        Assert.StartsWith("220 2.0.0", await raw.ReadReplyAsync());
        await raw.StartTlsAsync();

        // The first reply over TLS answers our first TLS command, not the pipelined clear-text ones.
        Assert.StartsWith("250 2.0.0 Ok", await raw.CommandAsync("RSET"));

        // Had MAIL run, the session would be in a transaction; after the reset EHLO is needed and MAIL is fresh.
        Assert.StartsWith("503 5.5.1 Error: send HELO/EHLO first", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250 2.1.0", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
    }

    [Fact]
    public async Task OverlongLineGets500AndTheSessionGoesOn()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        Assert.StartsWith("500 5.5.2", await raw.CommandAsync("NOOP " + new string('a', 600)));
        Assert.StartsWith("500 5.5.2", await raw.CommandAsync("NOOP " + new string('a', 20_000)));
        Assert.StartsWith("250 2.0.0", await raw.CommandAsync("NOOP"));
        Assert.StartsWith("252", await raw.CommandAsync("VRFY bob"));
        Assert.StartsWith("502", await raw.CommandAsync("EXPN list"));
        Assert.StartsWith("214", await raw.CommandAsync("HELP"));

        // RFC 5321 §4.1.1.5 and §4.1.1.10: RSET and QUIT take no argument (NOOP may, §4.1.1.9).
        Assert.StartsWith("250 2.1.0", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("RSET everything"));
        Assert.StartsWith("503 5.5.1", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("250 2.0.0", await raw.CommandAsync("NOOP with an argument"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("QUIT now"));
        Assert.StartsWith("221", await raw.CommandAsync("QUIT"));
    }

    [Fact]
    public async Task MailAndRcptMayExceed512OctetsByWhatTheirParametersAdd()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");

        // A relay passes on a long sender with SIZE, BODY, RET, a 100-character ENVID, AUTH= and SMTPUTF8.
        var longAddress = new string('c', 64) + "@" + string.Concat(Enumerable.Repeat(new string('d', 60) + ".", 2)) + "outside.test";
        var mail = $"MAIL FROM:<{longAddress}> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID={new string('e', 100)} AUTH={longAddress} SMTPUTF8";
        Assert.True(mail.Length + 2 > 512);
        Assert.StartsWith("250 2.1.0", await raw.CommandAsync(mail));

        // And a recipient with NOTIFY and a long ORCPT.
        var rcpt = $"RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;{longAddress}+2C{new string('f', 280)}";
        Assert.True(rcpt.Length + 2 > 512);
        Assert.StartsWith("250 2.1.5", await raw.CommandAsync(rcpt));

        // Other commands keep the 512-octet limit.
        Assert.StartsWith("500 5.5.2", await raw.CommandAsync("NOOP " + new string('a', 600)));
    }

    [Fact]
    public async Task GarbageFloodEndsWith421()
    {
        await using var server = await StartAsync("example.test", InboundServer(new ConnectionLimits { MaxBadCommands = 5 }));
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        var garbage = string.Concat(Enumerable.Repeat("GARBAGE\r\n", 50));
        await raw.WriteAsync(garbage);
        for (var i = 0; i < 4; i++)
        {
            Assert.StartsWith("500 5.5.2", await raw.ReadReplyAsync());
        }

        Assert.StartsWith("421 4.7.0", await raw.ReadReplyAsync());
        Assert.Equal("", await raw.ReadReplyAsync());
    }

    [Fact]
    public async Task IdleSessionTimesOutWith421()
    {
        await using var server = await StartAsync("example.test", InboundServer(new ConnectionLimits { IdleTimeoutSeconds = 1 }));
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        Assert.StartsWith("250", await raw.CommandAsync("EHLO client.test"));
        Assert.StartsWith("421 4.4.2", await raw.ReadReplyAsync(5000));
        Assert.Equal("", await raw.ReadReplyAsync());
    }

    [Fact]
    public async Task DataTimeoutEndsAStalledTransfer()
    {
        await using var server = await StartAsync("example.test", InboundServer(settings: new Dictionary<string, string> { ["smtp.data-timeout-seconds"] = "1" }));
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.CommandAsync("MAIL FROM:<x@outside.test>");
        await raw.CommandAsync("RCPT TO:<bob@example.test>");
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        await raw.WriteAsync("Subject: stalled\r\n");
        Assert.StartsWith("421 4.4.2", await raw.ReadReplyAsync(5000));
        Assert.Empty(await InboxAsync(server, "bob@example.test"));
    }

    [Fact]
    public async Task RecipientLimitGives452()
    {
        await using var server = await StartAsync("example.test", InboundServer(new ConnectionLimits { MaxRecipients = 2 }));
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.CommandAsync("MAIL FROM:<x@outside.test>");
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<alice@example.test>"));
        Assert.StartsWith("452 4.5.3", await raw.CommandAsync("RCPT TO:<bob@example.test>"));
    }

    [Fact]
    public async Task InternationalAddressesNeedSmtpUtf8()
    {
        await using var server = await StartAsync();
        await server.Store.Directory.AddAliasAsync("josé@example.test", "bob@example.test", CancellationToken.None);
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        Assert.Contains("SMTPUTF8", await raw.CommandAsync("EHLO client.test"));
        Assert.StartsWith("553 5.6.7", await raw.CommandAsync("MAIL FROM:<müller@outside.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("553 5.6.7", await raw.CommandAsync("RCPT TO:<josé@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RSET"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<müller@outside.test> SMTPUTF8"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<josé@example.test>"));
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        Assert.StartsWith("250", await raw.CommandAsync("Subject: grüße\r\n\r\nhallo\r\n."));
        var stored = Encoding.UTF8.GetString(Assert.Single(await InboxAsync(server, "bob@example.test")));
        Assert.Contains("with UTF8SMTP id", stored);
        Assert.Contains("Subject: grüße", stored);
    }

    [Fact]
    public async Task MissingDateAndMessageIdAreAddedOnlyOnSubmission()
    {
        await using var server = await StartAsync();
        await using var secure = await RawSmtpClient.ConnectTlsAsync(server.PortOf(Submission, BindingMode.ImplicitTls));
        await secure.CommandAsync("EHLO client.test");
        Assert.StartsWith("235", await secure.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice@example.test\0" + Password))));
        await secure.CommandAsync("MAIL FROM:<alice@example.test>");
        await secure.CommandAsync("RCPT TO:<bob@example.test>");
        Assert.StartsWith("354", await secure.CommandAsync("DATA"));
        Assert.StartsWith("250", await secure.CommandAsync("Subject: bare\r\n\r\nbody\r\n."));
        var submitted = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(server, "bob@example.test"))));
        Assert.False(string.IsNullOrEmpty(submitted.MessageId));
        Assert.NotNull(submitted.Headers[HeaderId.Date]);
        Assert.Equal("body", Assert.IsType<TextPart>(submitted.Body).Text.TrimEnd());

        await using var inbound = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await inbound.CommandAsync("EHLO client.test");
        await inbound.CommandAsync("MAIL FROM:<x@outside.test>");
        await inbound.CommandAsync("RCPT TO:<alice@example.test>");
        await inbound.CommandAsync("DATA");
        Assert.StartsWith("250", await inbound.CommandAsync("Subject: bare\r\n\r\nbody\r\n."));
        var received = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(server, "alice@example.test"))));
        Assert.Null(received.Headers[HeaderId.MessageId]);
        Assert.Null(received.Headers[HeaderId.Date]);
    }

    [Fact]
    public async Task PostmasterWithoutADomainIsAcceptedWithParameters()
    {
        // RFC 5321 §4.1.1.3 / §4.5.1: "RCPT TO:<Postmaster>" [SP Rcpt-parameters] must be accepted.
        await using var server = await StartAsync();
        await server.Store.Configuration.SetSettingAsync(SettingKeys.Postmaster, "alice@example.test", CancellationToken.None);
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("250 2.1.5", await raw.CommandAsync("RCPT TO:<Postmaster> NOTIFY=NEVER"));
        Assert.StartsWith("250 2.1.5", await raw.CommandAsync("RCPT TO: <postmaster> ORCPT=rfc822;postmaster"));
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok", await raw.CommandAsync("Subject: to the postmaster\r\n\r\nhello\r\n."));
        Assert.Contains("Subject: to the postmaster", Encoding.UTF8.GetString(Assert.Single(await InboxAsync(server, "alice@example.test"))));
    }

    [Fact]
    public async Task ParametersNeedEhloAndAuthMustBeXtext()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("HELO client.test");
        Assert.StartsWith("555 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> SIZE=100"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("555 5.5.4", await raw.CommandAsync("RCPT TO:<alice@example.test> NOTIFY=NEVER"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<alice@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RSET"));

        await raw.CommandAsync("EHLO client.test");
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> AUTH=bad+zz"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> AUTH"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test> AUTH=<>"));
    }

    [Fact]
    public async Task AnAddressLiteralOfThisHostIsLocal()
    {
        // RFC 5321 §4.1.3: user@[127.0.0.1] reaches this host's user (its primary domain), not a relay.
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("554 5.7.1", await raw.CommandAsync("RCPT TO:<alice@[192.0.2.1]>"));
        Assert.StartsWith("550 5.1.1", await raw.CommandAsync("RCPT TO:<nobody@[127.0.0.1]>"));
        Assert.StartsWith("250 2.1.5", await raw.CommandAsync("RCPT TO:<alice@[127.0.0.1]>"));
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok", await raw.CommandAsync("Subject: literal\r\n\r\nhello\r\n."));
        Assert.Contains("Subject: literal", Encoding.UTF8.GetString(Assert.Single(await InboxAsync(server, "alice@example.test"))));
    }

    [Fact]
    public async Task DsnParametersAreCheckedForSyntaxAndRepetition()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");

        // Two values for one keyword: which one holds? Refused, as Postfix does.
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> ENVID=one ENVID=two"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("MAIL FROM:<x@outside.test> RET=FULL RET=HDRS"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test> RET=FULL ENVID=QQ+2B1"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("RCPT TO:<bob@example.test> NOTIFY=SUCCESS NOTIFY=FAILURE"));

        // RFC 3461 §4.2: ORCPT = addr-type ";" xtext.
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("RCPT TO:<bob@example.test> ORCPT=rfc822;bob+ZZexample.test"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("RCPT TO:<bob@example.test> ORCPT=;bob@example.test"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("RCPT TO:<bob@example.test> ORCPT=rfc822;"));
        Assert.StartsWith("501 5.5.4", await raw.CommandAsync("RCPT TO:<bob@example.test> ORCPT=rfc822;bob@example.test ORCPT=rfc822;bob@example.test"));
        Assert.StartsWith("250 2.1.5", await raw.CommandAsync("RCPT TO:<bob@example.test> NOTIFY=SUCCESS ORCPT=rfc822;bob+40example.test"));
    }

    [Fact]
    public async Task ARefusedMailCommandLeavesNoParametersForTheNextTransaction()
    {
        await using var server = await StartAsync("example.test", InboundServer(relay: ["127.0.0.0/8"]));
        Assert.True(await server.Store.Directory.SetQuotaAsync("bob@example.test", 5000, CancellationToken.None));
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");

        // The declared SIZE of a refused MAIL must not make the next transaction's recipient look over quota.
        Assert.StartsWith("501", await raw.CommandAsync("MAIL FROM:<x@outside.test> SIZE=99999 BODY=BINARYMIME"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("250 2.1.5", await raw.CommandAsync("RCPT TO:<bob@example.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RSET"));

        // Nor its ENVID and RET end up on the next message.
        Assert.StartsWith("501", await raw.CommandAsync("MAIL FROM:<x@outside.test> ENVID=leaked RET=HDRS BODY=BINARYMIME"));
        Assert.StartsWith("501", await raw.CommandAsync("MAIL FROM:<x@outside.test> RET=HDRS ENVID=leaked SIZE=x"));
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<friend@foreign.test>"));
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok", await raw.CommandAsync("Subject: plain\r\n\r\nhello\r\n."));
        var queued = Assert.Single(await server.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Null(queued.EnvelopeId);
        Assert.Null(queued.Ret);
    }

    [Fact]
    public async Task AMessageWithTooManyReceivedFieldsIsRefusedAsALoop()
    {
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        static string Hops(int count) => string.Concat(Enumerable.Range(0, count).Select(i => $"Received: from h{i}.test\r\n\tby h{i + 1}.test; Sun, 1 Nov 2026 10:00:00 +0000\r\n"));

        // RFC 5321 §6.3: 50 relays already (Postfix's hopcount_limit) is a loop, refused after the data; the session goes on.
        await raw.CommandAsync("MAIL FROM:<x@outside.test>");
        await raw.CommandAsync("RCPT TO:<bob@example.test>");
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        var loop = await raw.CommandAsync(Hops(50) + "Subject: loop\r\n\r\nround and round\r\n.");
        Assert.StartsWith("554 5.4.6", loop);
        Assert.True(System.Text.Ascii.IsValid(loop), loop);
        Assert.StartsWith("250 2.0.0", await raw.CommandAsync("NOOP"));

        await raw.CommandAsync("MAIL FROM:<x@outside.test>");
        await raw.CommandAsync("RCPT TO:<bob@example.test>");
        var chunk = Hops(60) + "Subject: loop\r\n\r\nround and round\r\n";
        Assert.StartsWith("554 5.4.6", await raw.CommandAsync($"BDAT {Encoding.UTF8.GetByteCount(chunk)} LAST\r\n{chunk.TrimEnd('\n').TrimEnd('\r')}"));

        await raw.CommandAsync("MAIL FROM:<x@outside.test>");
        await raw.CommandAsync("RCPT TO:<bob@example.test>");
        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok", await raw.CommandAsync(Hops(49) + "Subject: long way\r\n\r\nbut no loop\r\n."));
        Assert.Contains("Subject: long way", Encoding.UTF8.GetString(Assert.Single(await InboxAsync(server, "bob@example.test"))));
    }

    [Fact]
    public async Task AKnownCommandWithInvalidCharactersGets501()
    {
        // RFC 5321 §4.1.2: invalid character codes in a command, and no other reason to refuse it, MUST give 501.
        await using var server = await StartAsync();
        await using var raw = await RawSmtpClient.ConnectAsync(server.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        await raw.WriteAsync("NOOP a\u0001b\r\n");
        Assert.StartsWith("501 5.5.2", await raw.ReadReplyAsync());
        await raw.WriteAsync([.. "MAIL FROM:<x@outside"u8, 0xFF, .. ".test>\r\n"u8]);
        Assert.StartsWith("501 5.5.2", await raw.ReadReplyAsync());
        await raw.WriteAsync("GARBAGE\0\r\n");
        Assert.StartsWith("500 5.5.2", await raw.ReadReplyAsync());
        Assert.StartsWith("250 2.1.0", await raw.CommandAsync("MAIL FROM:<x@outside.test>"));
    }
}
