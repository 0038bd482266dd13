using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Smtp;
using Postern.Server.Smtp.Outbound;
using Postern.Store;
using static Postern.IntegrationTests.Smtp.SmtpTestServer;

namespace Postern.IntegrationTests.Smtp;

public sealed class OutboundDeliveryTests
{
    private sealed class NoDns : IMailExchangerResolver
    {
        public Task<MailExchangerLookup> ResolveAsync(string domain, CancellationToken cancellationToken) =>
            Task.FromResult(new MailExchangerLookup(MailExchangerStatus.NoMail, [], "no DNS in tests"));
    }

    /// <summary>
    /// A port that refuses connections for as long as the socket lives: bound but not listening. A port merely closed
    /// again could be taken by another test's listener meanwhile, which then accepts and never greets.
    /// </summary>
    private static Socket ClosedPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    private static OutboundDeliveryOptions Options(TimeSpan? retryPeriod = null, bool trustTestRoot = true, IMailExchangerResolver? resolver = null, int mxPort = 25,
        IReadOnlyCollection<X509Certificate2>? roots = null, MtaStsPolicies? mtaSts = null) => new()
        {
            MxPort = mxPort,
            MtaSts = mtaSts,
            PollInterval = TimeSpan.FromMilliseconds(200),
            FirstRetryDelay = TimeSpan.FromMilliseconds(200),
            RetryPeriod = retryPeriod ?? TimeSpan.FromDays(5),
            Timeout = TimeSpan.FromSeconds(10),
            Resolver = resolver ?? new NoDns(),
            TrustedRoots = trustTestRoot ? _ => Task.FromResult(roots ?? [TestCertificates.Shared.Root]) : null,
        };

    private static async Task SubmitAsync(InProcessServer server, string from, string to, string subject)
    {
        using var client = new SmtpClient
        {
            ServerCertificateValidationCallback = TestCertificates.Shared.Validate,
            CheckCertificateRevocation = false,
        };
        await client.ConnectAsync("127.0.0.1", server.PortOf(Submission, BindingMode.StartTls), SecureSocketOptions.StartTls);
        await client.AuthenticateAsync(from, Password);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "Across the servers." };
        await client.SendAsync(message);
        await client.DisconnectAsync(true);
    }

    /// <summary>A message from another server's user to bob on B's port-25 server, with extra header fields.</summary>
    private static async Task SendFromElsewhereAsync(InProcessServer b, string subject, string text, params (HeaderId Id, string Value)[] fields)
    {
        using var client = new SmtpClient { ServerCertificateValidationCallback = TestCertificates.Shared.Validate, CheckCertificateRevocation = false };
        await client.ConnectAsync("127.0.0.1", b.PortOf(Inbound, BindingMode.StartTls), SecureSocketOptions.StartTls);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("someone@elsewhere.test"));
        message.To.Add(MailboxAddress.Parse("bob@b.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = text };
        foreach (var (id, value) in fields)
        {
            message.Headers.Add(id, value);
        }

        await client.SendAsync(message);
        await client.DisconnectAsync(true);
    }

    private static async Task WaitForEmptyQueueAsync(InProcessServer server, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while ((await server.Store.Queue.ListAsync(CancellationToken.None)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }

    [Theory]
    [InlineData(SmtpRouteTls.Opportunistic, false)]
    [InlineData(SmtpRouteTls.Required, true)]
    [InlineData(SmtpRouteTls.None, false)]
    public async Task MessageSubmittedOnAArrivesInTheInboxOnB(SmtpRouteTls tls, bool verify)
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        Assert.True((await outbound.Routes.SetAsync(new SmtpRoute("b.test", "127.0.0.1", b.PortOf(Inbound, BindingMode.StartTls), tls, verify), CancellationToken.None)).IsOk);
        await outbound.StartAsync(CancellationToken.None);
        try
        {
            await SubmitAsync(a, "alice@a.test", "bob@b.test", "hello B");
            var inbox = await WaitForInboxAsync(b, "bob@b.test", 1, TimeSpan.FromSeconds(20));
            var text = Encoding.UTF8.GetString(Assert.Single(inbox));
            var parsed = MimeMessage.Load(new MemoryStream(Assert.Single(inbox)));
            Assert.Equal("hello B", parsed.Subject);

            // Two trace fields: B's on top, A's (submission) below it.
            var received = parsed.Headers.Where(h => h.Id == HeaderId.Received).Select(h => h.Value).ToList();
            Assert.Equal(2, received.Count);
            Assert.Contains(tls == SmtpRouteTls.None ? "with ESMTP id" : "with ESMTPS id", received[0]);
            Assert.Contains("with ESMTPSA id", received[1]);
            Assert.Contains("from a.example.test", text);
            await WaitForEmptyQueueAsync(a, TimeSpan.FromSeconds(5));
            Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
        }
        finally
        {
            await outbound.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task WithoutARouteMailGoesToTheDomainsMxByPreferenceAndANullMxBounces()
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());

        // b.test's best exchanger refuses connections; the next one is B. nomail.test says it takes no mail (RFC 7505).
        await using var dns = new Postern.Tests.FakeDnsServer()
            .AddMx("b.test", 10, "127.0.0.2")
            .AddMx("b.test", 20, "localhost")
            .AddMx("nomail.test", 0, ".");
        var lookup = dns.CreateClient();
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test",
            Options(resolver: new DnsMailExchangerResolver(lookup), mxPort: b.PortOf(Inbound, BindingMode.StartTls)));
        await SubmitAsync(a, "alice@a.test", "bob@b.test", "found by MX");
        await SubmitAsync(a, "alice@a.test", "carol@nomail.test", "to a domain without mail");
        await outbound.RunOnceAsync(CancellationToken.None);

        var delivered = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(b, "bob@b.test"))));
        Assert.Equal("found by MX", delivered.Subject);
        var bounce = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(a, "alice@a.test"))));
        var status = Assert.Single(Assert.IsType<MultipartReport>(bounce.Body).OfType<MessageDeliveryStatus>());
        Assert.Equal("rfc822; carol@nomail.test", status.StatusGroups[1]["Final-Recipient"]);
        Assert.Equal("5.1.2", status.StatusGroups[1]["Status"]);
        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TheReceivingServerChecksTheSendersDkimSignatureAndRecordsItInAuthenticationResults()
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());

        // A signs a.test's mail; the key is published in a DNS that B asks.
        a.Context.Dkim = new DkimKeys(a.Store);
        var key = await a.Context.Dkim.CreateAsync("a.test", "sel1", CancellationToken.None);
        await using var dns = new Postern.Tests.FakeDnsServer().AddTxt(key.DnsName, key.DnsText);
        var lookup = dns.CreateClient();
        b.Context.InboundDkim = new DkimVerification(lookup, "mx.b.test");

        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("b.test", "127.0.0.1", b.PortOf(Inbound, BindingMode.StartTls)), CancellationToken.None);
        await SubmitAsync(a, "alice@a.test", "bob@b.test", "signed by A");
        await outbound.RunOnceAsync(CancellationToken.None);

        var arrived = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(b, "bob@b.test"))));
        Assert.Equal(HeaderId.ReturnPath, arrived.Headers[0].Id);
        Assert.Equal(HeaderId.AuthenticationResults, arrived.Headers[1].Id);
        Assert.Equal("mx.b.test; dkim=pass header.d=a.test header.s=sel1", string.Join(' ', arrived.Headers[1].Value.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries)));

        // Mail that arrives signed with a key DNS does not have, or with a verdict forged in our name, gets the truth.
        await SendFromElsewhereAsync(b, "forged verdict", "Trust me.",
            (HeaderId.AuthenticationResults, "mx.b.test; dkim=pass header.d=bank.test"),
            (HeaderId.DkimSignature, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=elsewhere.test; s=gone; h=from; bh=AAAA; b=AAAA"));

        var second = (await InboxAsync(b, "bob@b.test")).Select(m => MimeMessage.Load(new MemoryStream(m))).Single(m => m.Subject == "forged verdict");
        var verdicts = second.Headers.Where(h => h.Id == HeaderId.AuthenticationResults).Select(h => h.Value).ToList();
        var verdict = Assert.Single(verdicts);
        Assert.DoesNotContain("bank.test", verdict, StringComparison.Ordinal);
        Assert.Contains("header.d=elsewhere.test", verdict, StringComparison.Ordinal);
        Assert.DoesNotContain("dkim=pass", verdict, StringComparison.Ordinal);
    }

    /// <summary>A's outbound delivery, finding MX hosts and MTA-STS policies through <paramref name="dns"/>; B serves every MX.</summary>
    private static OutboundDeliveryService MtaStsOutbound(InProcessServer a, InProcessServer b, Postern.Tests.FakeDnsServer dns, PolicyServer policies, RecordingLoggerFactory? log = null)
    {
        var lookup = dns.CreateClient();
        IReadOnlyCollection<X509Certificate2> roots = [TestCertificates.Shared.Root, .. policies.Roots];
        return new OutboundDeliveryService(a.Store, "a.example.test", Options(
            resolver: new DnsMailExchangerResolver(lookup), mxPort: b.PortOf(Inbound, BindingMode.StartTls), roots: roots,
            mtaSts: new MtaStsPolicies(lookup, _ => Task.FromResult(roots)) { PolicyPort = policies.Port }), log);
    }

    [Fact]
    public async Task AnEnforcedMtaStsPolicyLetsMailGoOnlyToItsMxHostsOverVerifiedTls()
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());

        // b.test's policy names its MX (localhost, whose certificate B serves); c.test's names a host its MX is not.
        using var policies = new PolicyServer(new Dictionary<string, string>
        {
            ["mta-sts.b.test"] = "version: STSv1\r\nmode: enforce\r\nmx: localhost\r\nmax_age: 86400\r\n",
            ["mta-sts.c.test"] = "version: STSv1\r\nmode: enforce\r\nmx: mx.c.test\r\nmax_age: 86400\r\n",
        });
        await using var dns = new Postern.Tests.FakeDnsServer()
            .AddMx("b.test", 10, "localhost").AddTxt("_mta-sts.b.test", "v=STSv1; id=20261128").AddA("mta-sts.b.test", IPAddress.Loopback)
            .AddMx("c.test", 10, "localhost").AddTxt("_mta-sts.c.test", "v=STSv1; id=1").AddA("mta-sts.c.test", IPAddress.Loopback);
        using var outbound = MtaStsOutbound(a, b, dns, policies);
        await SubmitAsync(a, "alice@a.test", "bob@b.test", "under a policy");
        await SubmitAsync(a, "alice@a.test", "carol@c.test", "to a host the policy does not name");
        await outbound.RunOnceAsync(CancellationToken.None);

        var delivered = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(b, "bob@b.test"))));
        Assert.Contains("with ESMTPS id", delivered.Headers.First(h => h.Id == HeaderId.Received).Value, StringComparison.Ordinal);
        Assert.Equal(2, policies.Requests);

        var held = Assert.Single(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal("carol@c.test", Assert.Single(held.Recipients).Address);
        Assert.Contains("MTA-STS", held.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATestingMtaStsPolicyOnlyReportsAnMxItDoesNotName()
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());

        // RFC 8461 §5: in testing mode a failing check is reported, and the mail goes as it would without a policy.
        using var policies = new PolicyServer(new Dictionary<string, string>
        {
            ["mta-sts.b.test"] = "version: STSv1\r\nmode: testing\r\nmx: mx.elsewhere.test\r\nmax_age: 86400\r\n",
        });
        await using var dns = new Postern.Tests.FakeDnsServer()
            .AddMx("b.test", 10, "localhost").AddTxt("_mta-sts.b.test", "v=STSv1; id=7").AddA("mta-sts.b.test", IPAddress.Loopback);
        using var log = new RecordingLoggerFactory();
        using var outbound = MtaStsOutbound(a, b, dns, policies, log);
        await SubmitAsync(a, "alice@a.test", "bob@b.test", "under a testing policy");
        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, policies.Requests);
        Assert.Contains(log.Entries, e => e.EventId == 3105 && e.Text.Contains("b.test", StringComparison.Ordinal));
        Assert.Equal("under a testing policy", MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(b, "bob@b.test")))).Subject);
        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AnMtaStsPolicyStaysInForceUntilItExpiresWhenItCannotBeFetchedAgain()
    {
        using var policies = new PolicyServer(new Dictionary<string, string>
        {
            ["mta-sts.b.test"] = "version: STSv1\r\nmode: enforce\r\nmx: mx.b.test\r\nmax_age: 3600\r\n",
        });
        await using var dns = new Postern.Tests.FakeDnsServer().AddTxt("_mta-sts.b.test", "v=STSv1; id=1").AddA("mta-sts.b.test", IPAddress.Loopback);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        IReadOnlyCollection<X509Certificate2> roots = [.. policies.Roots];
        var sts = new MtaStsPolicies(dns.CreateClient(), _ => Task.FromResult(roots), clock) { PolicyPort = policies.Port };

        Assert.Equal(MtaStsMode.Enforce, (await sts.GetAsync("b.test", CancellationToken.None))?.Mode);
        Assert.Equal("1", (await sts.GetAsync("b.test", CancellationToken.None))?.Id);
        Assert.Equal(1, policies.Requests); // §3.3: the same id is not fetched again

        // §5.1: while the cached policy is unexpired it stays in force, whatever happens to the TXT record or the host.
        policies.Dispose();
        dns.Remove("_mta-sts.b.test", Postern.Tests.FakeDnsServer.Txt).AddTxt("_mta-sts.b.test", "v=STSv1; id=2");
        Assert.Equal("1", (await sts.GetAsync("b.test", CancellationToken.None))?.Id);
        dns.Remove("_mta-sts.b.test", Postern.Tests.FakeDnsServer.Txt);
        Assert.Equal("1", (await sts.GetAsync("b.test", CancellationToken.None))?.Id);
        dns.Fail("_mta-sts.b.test", 2);
        Assert.Equal("1", (await sts.GetAsync("b.test", CancellationToken.None))?.Id);

        clock.Now += TimeSpan.FromHours(2);
        Assert.Null(await sts.GetAsync("b.test", CancellationToken.None));
    }

    /// <summary>An HTTPS server for the policy hosts (RFC 8461 §3.3), each with its own certificate chosen by SNI.</summary>
    private sealed class PolicyServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Dictionary<string, (TestCertificates Certificates, string Policy)> _hosts;
        private int _requests;

        public PolicyServer(Dictionary<string, string> policies)
        {
            _hosts = policies.ToDictionary(p => p.Key, p => (new TestCertificates(p.Key), p.Value), StringComparer.OrdinalIgnoreCase);
            _listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public IEnumerable<X509Certificate2> Roots => _hosts.Values.Select(h => h.Certificates.Root);

        public int Requests => Volatile.Read(ref _requests);

        private async Task AcceptAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        await using var tls = new System.Net.Security.SslStream(client.GetStream());
                        await tls.AuthenticateAsServerAsync(new System.Net.Security.SslServerAuthenticationOptions
                        {
                            ServerCertificateSelectionCallback = (_, name) => _hosts[name ?? ""].Certificates.Server,
                        });
                        var request = new StringBuilder();
                        var buffer = new byte[4096];
                        while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                        {
                            var read = await tls.ReadAsync(buffer);
                            if (read == 0)
                            {
                                return;
                            }

                            request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                        }

                        Interlocked.Increment(ref _requests);
                        var host = request.ToString().Split("\r\n").First(l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))[5..].Trim().Split(':')[0];
                        var body = Encoding.ASCII.GetBytes(_hosts[host].Policy);
                        await tls.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
                        await tls.WriteAsync(body);
                    }
                });
            }
        }

        public void Dispose() => _listener.Stop();
    }

    [Fact]
    public async Task AVirtualServerWithTheDkimCheckTurnedOffAddsNoVerdict()
    {
        await using var b = await StartAsync("b.test", InboundServer(settings: new Dictionary<string, string> { ["smtp.dkim-max-signatures"] = "0" }));
        await using var dns = new Postern.Tests.FakeDnsServer();
        var lookup = dns.CreateClient();
        b.Context.InboundDkim = new DkimVerification(lookup, "mx.b.test");
        await SendFromElsewhereAsync(b, "not checked", "Signed, but nobody looks.",
            (HeaderId.DkimSignature, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=elsewhere.test; s=any; h=from; bh=AAAA; b=AAAA"));

        var arrived = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(b, "bob@b.test"))));
        Assert.DoesNotContain(arrived.Headers, h => h.Id == HeaderId.AuthenticationResults);
    }

    [Fact]
    public async Task RequiredVerifiedTlsWithoutTrustedRootIsNotDelivered()
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options(trustTestRoot: false));
        await outbound.Routes.SetAsync(new SmtpRoute("b.test", "127.0.0.1", b.PortOf(Inbound, BindingMode.StartTls), SmtpRouteTls.Required, Verify: true), CancellationToken.None);
        await SubmitAsync(a, "alice@a.test", "bob@b.test", "must not arrive");
        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Empty(await InboxAsync(b, "bob@b.test"));
        var queued = Assert.Single(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal(1, queued.Attempts);
        Assert.Contains("TLS", queued.LastError, StringComparison.Ordinal);
        Assert.Equal(RecipientState.Pending, Assert.Single(queued.Recipients).State);
    }

    [Fact]
    public async Task PermanentRefusalBouncesToTheSenderWithADeliveryStatusReport()
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("b.test", "127.0.0.1", b.PortOf(Inbound, BindingMode.StartTls)), CancellationToken.None);
        await SubmitAsync(a, "alice@a.test", "nobody@b.test", "to nobody");
        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
        var bounce = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(a, "alice@a.test"))));
        var report = Assert.IsType<MultipartReport>(bounce.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var status = Assert.Single(report.OfType<MessageDeliveryStatus>());
        var recipient = status.StatusGroups[1];
        Assert.Equal("rfc822; nobody@b.test", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.Contains("550", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        var original = Assert.Single(report.OfType<MessagePart>());
        Assert.Equal("to nobody", original.Message?.Subject);
        Assert.Equal("auto-replied", bounce.Headers["Auto-Submitted"]);
    }

    [Fact]
    public async Task UnreachableHostIsRetriedThenBouncedAfterTheRetryPeriod()
    {
        using var closed = ClosedPort(out var closedPort);

        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options(retryPeriod: TimeSpan.FromSeconds(2)));
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", closedPort), CancellationToken.None);
        await SubmitAsync(a, "alice@a.test", "carol@c.test", "to the void");
        await outbound.RunOnceAsync(CancellationToken.None);
        var queued = Assert.Single(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal(1, queued.Attempts);
        Assert.Empty(await InboxAsync(a, "alice@a.test"));

        await outbound.StartAsync(CancellationToken.None);
        try
        {
            var inbox = await WaitForInboxAsync(a, "alice@a.test", 1, TimeSpan.FromSeconds(15));
            var bounce = MimeMessage.Load(new MemoryStream(Assert.Single(inbox)));
            var status = Assert.Single(Assert.IsType<MultipartReport>(bounce.Body).OfType<MessageDeliveryStatus>());
            Assert.Equal("4.4.7", status.StatusGroups[1]["Status"]);

            // No server ever replied: the diagnostic is this server's (RFC 3464 §2.3.6), not a made-up SMTP reply.
            Assert.StartsWith("X-Postern; 451 4.4.1 cannot connect to 127.0.0.1:", status.StatusGroups[1]["Diagnostic-Code"], StringComparison.Ordinal);
            Assert.Null(status.StatusGroups[1]["Remote-MTA"]);
            await WaitForEmptyQueueAsync(a, TimeSpan.FromSeconds(5));
            Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
        }
        finally
        {
            await outbound.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task NoBounceIsSentToTheNullSender()
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("b.test", "127.0.0.1", b.PortOf(Inbound, BindingMode.StartTls)), CancellationToken.None);
        var content = "From: MAILER-DAEMON@a.test\r\nTo: nobody@b.test\r\nSubject: a bounce\r\n\r\nbody\r\n"u8.ToArray();
        await a.Store.Mail.AcceptAsync(content, [], new OutboundEnvelope("", [new OutboundRecipient("nobody@b.test")]), DateTimeOffset.UtcNow, CancellationToken.None);
        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Empty(await InboxAsync(a, "alice@a.test"));
    }

    [Fact]
    public async Task NullSenderMessageIsDeliveredWithAnEmptyReversePath()
    {
        await using var b = await StartAsync("b.test", InboundServer());
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("b.test", "127.0.0.1", b.PortOf(Inbound, BindingMode.StartTls)), CancellationToken.None);
        var content = "From: MAILER-DAEMON@a.test\r\nTo: bob@b.test\r\nSubject: a bounce\r\n\r\nbody\r\n"u8.ToArray();
        await a.Store.Mail.AcceptAsync(content, [], new OutboundEnvelope("", [new OutboundRecipient("bob@b.test")]), DateTimeOffset.UtcNow, CancellationToken.None);
        await outbound.RunOnceAsync(CancellationToken.None);
        Assert.Single(await InboxAsync(b, "bob@b.test"));
    }

    [Fact]
    public async Task RoutesCanBeListedAddedAndRemoved()
    {
        await using var a = await StartAsync("a.test", SubmissionServer());
        var routes = new SmtpRouteStore(a.Store);
        Assert.True((await routes.SetAsync(new SmtpRoute("B.Test", "mx.b.test", 2525, SmtpRouteTls.Required, true, "user", "secret"), CancellationToken.None)).IsOk);
        Assert.True((await routes.SetAsync(new SmtpRoute("*", "smarthost.test"), CancellationToken.None)).IsOk);
        Assert.False((await routes.SetAsync(new SmtpRoute("bad domain", "x"), CancellationToken.None)).IsOk);
        Assert.Equal(2, (await routes.ListAsync(CancellationToken.None)).Count);
        var found = await routes.FindAsync("b.test", CancellationToken.None);
        Assert.Equal(new SmtpRoute("b.test", "mx.b.test", 2525, SmtpRouteTls.Required, true, "user", "secret"), found);
        Assert.Equal("smarthost.test", (await routes.FindAsync("other.test", CancellationToken.None))?.Host);
        Assert.True(await routes.RemoveAsync("b.test", CancellationToken.None));
        Assert.Equal("smarthost.test", (await routes.FindAsync("b.test", CancellationToken.None))?.Host);
    }

    [Fact]
    public async Task RoutePasswordsAreEncryptedAtRestAndClearLegacyRowsStayReadable()
    {
        await using var a = await StartAsync("a.test", SubmissionServer());
        var routes = new SmtpRouteStore(a.Store);
        Assert.True((await routes.SetAsync(new SmtpRoute("b.test", "mx.b.test", 587, SmtpRouteTls.Required, true, "user", "route-secret-1"), CancellationToken.None)).IsOk);

        var stored = await a.Store.Database.ReadAsync(c => c.CreateCommand("SELECT password, password_sealed FROM smtp_routes WHERE domain = 'b.test'")
            .Query(r => (Clear: r.IsDBNull(0) ? null : r.GetString(0), Sealed: (byte[])r.GetValue(1))).Single(), CancellationToken.None);
        Assert.Null(stored.Clear);
        Assert.DoesNotContain("route-secret-1", Encoding.Latin1.GetString(stored.Sealed), StringComparison.Ordinal);
        Assert.Equal("route-secret-1", (await routes.FindAsync("b.test", CancellationToken.None))?.Password);

        // A row written in clear before the migration is still readable, and is sealed on first use.
        await a.Store.Database.WriteAsync(w => w.Command("INSERT INTO smtp_routes (domain, host, username, password) VALUES ('legacy.test', 'mx.legacy.test', 'old', 'legacy-secret-2')").Execute(), CancellationToken.None);
        var fresh = new SmtpRouteStore(a.Store);
        Assert.Equal("legacy-secret-2", (await fresh.FindAsync("legacy.test", CancellationToken.None))?.Password);
        var upgraded = await a.Store.Database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM smtp_routes WHERE password IS NOT NULL OR (username IS NOT NULL AND password_sealed IS NULL)").Scalar<long>(), CancellationToken.None);
        Assert.Equal(0, upgraded);
        Assert.Equal("legacy-secret-2", (await new SmtpRouteStore(a.Store).FindAsync("legacy.test", CancellationToken.None))?.Password);

        // Without the key-encryption key (another data folder's) the sealed password is not readable.
        var otherFolder = Path.Combine(Path.GetTempPath(), "postern-otherkey-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.Null(new Postern.Pki.SecretProtector(otherFolder, "smtp_routes.password").Unprotect(stored.Sealed));
            Assert.Null(new Postern.Pki.SecretProtector(a.Store.Options.DataDirectory, "news_peers.password").Unprotect(stored.Sealed));
        }
        finally
        {
            Directory.Delete(otherFolder, recursive: true);
        }
    }

    [Fact]
    public async Task DelayNoticeIsSentOnceWhenTheRecipientAskedForIt()
    {
        using var closed = ClosedPort(out var closedPort);

        await using var a = await StartAsync("a.test", InboundServer(relay: ["127.0.0.1/32"]));
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", new OutboundDeliveryOptions
        {
            Resolver = new NoDns(),
            DelayNoticeAfter = TimeSpan.Zero,
            FirstRetryDelay = TimeSpan.Zero,
            Timeout = TimeSpan.FromSeconds(5),
        });
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", closedPort), CancellationToken.None);
        await using (var raw = await RawSmtpClient.ConnectAsync(a.PortOf(Inbound, BindingMode.StartTls)))
        {
            await raw.CommandAsync("EHLO client.test");
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@a.test> ENVID=env+2B1"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<carol@c.test> NOTIFY=DELAY,FAILURE"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<dave@c.test>"));
            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            Assert.StartsWith("250", await raw.CommandAsync("Subject: slow\r\n\r\nbody\r\n."));
        }

        await outbound.RunOnceAsync(CancellationToken.None);
        await outbound.RunOnceAsync(CancellationToken.None);
        var queued = Assert.Single(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal(2, queued.Attempts);

        var notice = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(a, "alice@a.test"))));
        var status = Assert.Single(Assert.IsType<MultipartReport>(notice.Body).OfType<MessageDeliveryStatus>());
        Assert.Equal("env+1", status.StatusGroups[0]["Original-Envelope-Id"]); // xtext "+2B" decoded (RFC 3461 §4.4)
        var recipient = Assert.Single(status.StatusGroups.Skip(1), g => g.Count > 0);
        Assert.Equal("rfc822; carol@c.test", recipient["Final-Recipient"]);
        Assert.Equal("delayed", recipient["Action"]);
        Assert.NotNull(recipient["Will-Retry-Until"]);
    }

    [Fact]
    public async Task NotifySuccessRelayedToANextHopWithoutDsnGetsARelayedReport()
    {
        // RFC 3461 §5.2.2: the next hop cannot be asked for a success DSN, so this server sends a "relayed" one.
        using var peer = new ScriptedSmtpPeer(["PIPELINING", "8BITMIME"]);
        await using var a = await StartAsync("a.test", InboundServer(relay: ["127.0.0.1/32"]));
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        await using (var raw = await RawSmtpClient.ConnectAsync(a.PortOf(Inbound, BindingMode.StartTls)))
        {
            await raw.CommandAsync("EHLO client.test");
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@a.test> ENVID=relay-1"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<carol@c.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;carol@c.test"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<dave@c.test>"));
            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            Assert.StartsWith("250", await raw.CommandAsync("Subject: relayed\r\n\r\nsecret body\r\n."));
        }

        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal(["carol@c.test", "dave@c.test"], Assert.Single(peer.Messages).Recipients);
        Assert.DoesNotContain(peer.Commands, c => c.Contains("NOTIFY", StringComparison.Ordinal));
        var notice = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(a, "alice@a.test"))));
        var report = Assert.IsType<MultipartReport>(notice.Body);
        var status = Assert.Single(report.OfType<MessageDeliveryStatus>());
        Assert.Equal("relay-1", status.StatusGroups[0]["Original-Envelope-Id"]);
        var recipient = Assert.Single(status.StatusGroups.Skip(1), g => g.Count > 0);
        Assert.Equal("rfc822; carol@c.test", recipient["Final-Recipient"]);
        Assert.Equal("relayed", recipient["Action"]);
        Assert.Equal("2.0.0", recipient["Status"]);
        Assert.Equal("dns; 127.0.0.1", recipient["Remote-MTA"]);

        // RFC 3461 §4.3: a report of no failure returns the header only.
        Assert.DoesNotContain(report, p => p.ContentType.IsMimeType("message", "rfc822"));
        var headers = Assert.IsType<TextRfc822Headers>(Assert.Single(report, p => p.ContentType.IsMimeType("text", "rfc822-headers")));
        var text = headers.Message!.ToString();
        Assert.Contains("Subject: relayed", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret body", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("452 4.5.3 too many recipients")]
    [InlineData("552 5.5.3 too many recipients")]
    public async Task RecipientsOverTheNextHopsLimitGoInFurtherTransactionsOnTheSameConnection(string tooMany)
    {
        // RFC 5321 §4.5.3.1.8 and §4.5.3.1.10: 452 (or 552, as RFC 821 had it) to RCPT means "send the rest separately".
        using var peer = new ScriptedSmtpPeer(["PIPELINING"], (_, before) => before >= 3 ? tooMany : "250 2.1.5 ok");
        await using var a = await StartAsync("a.test", InboundServer(relay: ["127.0.0.1/32"]));
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        var recipients = Enumerable.Range(1, 8).Select(i => $"r{i}@c.test").ToList();
        await using (var raw = await RawSmtpClient.ConnectAsync(a.PortOf(Inbound, BindingMode.StartTls)))
        {
            await raw.CommandAsync("EHLO client.test");
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@a.test>"));
            foreach (var recipient in recipients)
            {
                Assert.StartsWith("250", await raw.CommandAsync($"RCPT TO:<{recipient}>"));
            }

            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            Assert.StartsWith("250", await raw.CommandAsync("Subject: many\r\n\r\nbody\r\n."));
        }

        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal(1, peer.Connections);
        Assert.Equal([3, 3, 2], peer.Messages.Select(m => m.Recipients.Count));
        Assert.Equal(recipients, peer.Messages.SelectMany(m => m.Recipients));
        Assert.Empty(await InboxAsync(a, "alice@a.test"));
    }

    [Fact]
    public async Task ANextHopThatNeverAnswersDoesNotHoldBackMailQueuedAfterIt()
    {
        // A listener that accepts and never greets: each attempt on it lasts the whole timeout (10 s here).
        using var silent = new SilentPeer();
        using var peer = new ScriptedSmtpPeer(["PIPELINING"]);
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("slow.test", "127.0.0.1", silent.Port, SmtpRouteTls.None), CancellationToken.None);
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        await outbound.StartAsync(CancellationToken.None);
        try
        {
            await SubmitAsync(a, "alice@a.test", "carol@slow.test", "to the silent one");
            await silent.Accepted.WaitAsync(TimeSpan.FromSeconds(10));
            await SubmitAsync(a, "alice@a.test", "carol@c.test", "queued after it");

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (peer.Messages.IsEmpty && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Single(peer.Messages);
        }
        finally
        {
            await outbound.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData(new[] { "PIPELINING" }, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nDKIM-Signature: v=1; a=rsa-sha256; d=a.test; s=s1; h=from; bh=AAAA; b=AAAA\r\nSubject: signed\r\n")]
    [InlineData(new[] { "PIPELINING", "8BITMIME" }, "Subject: Grüße aus Köln\r\nFrom: Jörg <alice@a.test>\r\n")]
    [InlineData(new[] { "PIPELINING" }, "Subject: no MIME fields at all\r\nFrom: alice@a.test\r\n")]
    public async Task EightBitContentIsMadeSevenBitForANextHopWithout8BitMimeOrSmtpUtf8(string[] extensions, string header)
    {
        // RFC 6152 §3: never raw 8-bit to a server without 8BITMIME (MailKit skipped the conversion for a signed
        // message); RFC 6531 §3.2 / RFC 6532: UTF-8 header fields only to one that offers SMTPUTF8.
        using var peer = new ScriptedSmtpPeer(extensions);
        await using var a = await StartAsync("a.test", InboundServer(relay: ["127.0.0.1/32"]));
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        await using (var raw = await RawSmtpClient.ConnectAsync(a.PortOf(Inbound, BindingMode.StartTls)))
        {
            await raw.CommandAsync("EHLO client.test");
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@a.test> BODY=8BITMIME SMTPUTF8"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<carol@c.test>"));
            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            Assert.StartsWith("250", await raw.CommandAsync(header + "\r\nGrüße aus Köln\r\n."));
        }

        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
        var data = Assert.Single(peer.Messages).Data;
        var headerEnd = data.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(System.Text.Ascii.IsValid(extensions.Contains("8BITMIME") ? data.AsSpan(0, headerEnd) : data), Encoding.Latin1.GetString(data));
        var arrived = MimeMessage.Load(new MemoryStream(data));
        Assert.Equal("Grüße aus Köln", arrived.TextBody?.Trim());
        if (arrived.Headers.Contains(HeaderId.ContentTransferEncoding))
        {
            // RFC 2045 §4: an encoding is read only under MIME-Version, so the conversion adds one where it was missing.
            Assert.Equal(new Version(1, 0), arrived.MimeVersion);
        }

        if (header.Contains("Jörg", StringComparison.Ordinal))
        {
            Assert.Equal("Grüße aus Köln", arrived.Subject);
            Assert.Equal("Jörg", Assert.Single(arrived.From.Mailboxes).Name);
        }
    }

    [Theory]
    [InlineData(SmtpRouteTls.Opportunistic, true)]
    [InlineData(SmtpRouteTls.Required, false)]
    public async Task AStartTlsRefusedByTheNextHopFallsBackToClearTextOnlyWhenTlsIsOpportunistic(SmtpRouteTls tls, bool delivered)
    {
        // The peer offers STARTTLS and refuses it (this one answers 502, as a 454 would be).
        using var peer = new ScriptedSmtpPeer(["PIPELINING", "STARTTLS"]);
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, tls), CancellationToken.None);
        await SubmitAsync(a, "alice@a.test", "carol@c.test", "starttls refused");
        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Equal(delivered ? 1 : 0, peer.Messages.Count);
        Assert.Equal(delivered, (await a.Store.Queue.ListAsync(CancellationToken.None)).Count == 0);
    }

    [Fact]
    public async Task NotifySuccessForALocalRecipientGetsADeliveredReport()
    {
        // This server offers DSN, so a previous hop passes NOTIFY=SUCCESS on and leaves the report to it (RFC 3461 §6.2.1).
        await using var b = await StartAsync("b.test", InboundServer());
        await using (var raw = await RawSmtpClient.ConnectAsync(b.PortOf(Inbound, BindingMode.StartTls)))
        {
            Assert.Contains("DSN", await raw.CommandAsync("EHLO a.example.test"), StringComparison.Ordinal);
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@b.test> ENVID=dlv-1 RET=FULL"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<bob@b.test> NOTIFY=SUCCESS ORCPT=rfc822;bob@b.test"));
            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            Assert.StartsWith("250", await raw.CommandAsync("Subject: to bob\r\n\r\nsecret body\r\n."));

            // Not for a recipient who did not ask, nor ever to the null sender.
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@b.test>"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<bob@b.test>"));
            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            Assert.StartsWith("250", await raw.CommandAsync("Subject: no report\r\n\r\nbody\r\n."));
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<>"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<bob@b.test> NOTIFY=SUCCESS"));
            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            Assert.StartsWith("250", await raw.CommandAsync("Subject: from the null sender\r\n\r\nbody\r\n."));
        }

        Assert.Equal(3, (await InboxAsync(b, "bob@b.test")).Count);
        var notice = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(b, "alice@b.test"))));
        var report = Assert.IsType<MultipartReport>(notice.Body);
        var status = Assert.Single(report.OfType<MessageDeliveryStatus>());
        Assert.Equal("dlv-1", status.StatusGroups[0]["Original-Envelope-Id"]);
        var recipient = Assert.Single(status.StatusGroups.Skip(1), g => g.Count > 0);
        Assert.Equal("rfc822; bob@b.test", recipient["Final-Recipient"]);
        Assert.Equal("rfc822;bob@b.test", recipient["Original-Recipient"]);
        Assert.Equal("delivered", recipient["Action"]);
        Assert.Equal("2.0.0", recipient["Status"]);
        Assert.DoesNotContain(report, p => p.ContentType.IsMimeType("message", "rfc822"));
        Assert.Empty(await b.Store.Queue.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AnAttemptThatOutlastsItsLeaseIsNotStartedAgainWhileItRuns()
    {
        using var silent = new SilentPeer();
        await using var a = await StartAsync("a.test", SubmissionServer());
        var options = Options();
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", new OutboundDeliveryOptions
        {
            Resolver = options.Resolver,
            PollInterval = TimeSpan.FromMilliseconds(100),
            Timeout = TimeSpan.FromSeconds(5),
            DeliveryLease = TimeSpan.FromMilliseconds(200),
        });
        await outbound.Routes.SetAsync(new SmtpRoute("slow.test", "127.0.0.1", silent.Port, SmtpRouteTls.None), CancellationToken.None);
        await outbound.StartAsync(CancellationToken.None);
        try
        {
            await SubmitAsync(a, "alice@a.test", "carol@slow.test", "slow");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(1, silent.Connections);
        }
        finally
        {
            await outbound.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AMultiLineRefusalKeepsItsLinesApartInTheBounce()
    {
        using var peer = new ScriptedSmtpPeer(["PIPELINING"], (address, _) => address.StartsWith("bad", StringComparison.Ordinal)
            ? "550-5.1.1 The email account that you tried to reach does not exist.\r\n550-\r\n550 5.1.1 Please check the address."
            : "250 2.1.5 ok");
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        await SubmitAsync(a, "alice@a.test", "bad@c.test", "to a bad address");
        await outbound.RunOnceAsync(CancellationToken.None);

        var bounce = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(a, "alice@a.test"))));
        var status = Assert.Single(Assert.IsType<MultipartReport>(bounce.Body).OfType<MessageDeliveryStatus>());
        var diagnostic = status.StatusGroups[1]["Diagnostic-Code"]!.ReplaceLineEndings("").Replace("\t", " ", StringComparison.Ordinal);
        Assert.Equal("smtp; 550 5.1.1 The email account that you tried to reach does not exist. 5.1.1 Please check the address.", diagnostic);
    }

    /// <summary>alice@a.test sends one message to carol, dave and erin at c.test, relayed through A's port 25.</summary>
    private static async Task RelayToThreeAsync(InProcessServer a)
    {
        await using var raw = await RawSmtpClient.ConnectAsync(a.PortOf(Inbound, BindingMode.StartTls));
        await raw.CommandAsync("EHLO client.test");
        Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@a.test>"));
        foreach (var recipient in new[] { "carol@c.test", "dave@c.test", "erin@c.test" })
        {
            Assert.StartsWith("250", await raw.CommandAsync($"RCPT TO:<{recipient}>"));
        }

        Assert.StartsWith("354", await raw.CommandAsync("DATA"));
        Assert.StartsWith("250", await raw.CommandAsync("Subject: three\r\n\r\nbody\r\n."));
    }

    [Fact]
    public async Task ARecipientRefusedAtRcptIsBouncedAtOnceEvenWhenTheDataIsThenDeferred()
    {
        // carol is refused for good at RCPT, dave is deferred there, and the message itself gets 451 after the dot:
        // carol's own 550 stands (bounced now, only carol), dave and erin are tried again.
        using var peer = new ScriptedSmtpPeer(["PIPELINING"], (address, _) => address switch
        {
            "carol@c.test" => "550 5.1.1 no such user",
            "dave@c.test" => "450 4.2.1 mailbox busy",
            _ => "250 2.1.5 ok",
        })
        { DataReply = "451 4.3.0 try again later" };
        await using var a = await StartAsync("a.test", InboundServer(relay: ["127.0.0.1/32"]));
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        await RelayToThreeAsync(a);
        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, peer.Connections);
        Assert.Empty(peer.Messages);
        var queued = Assert.Single(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal(RecipientState.Failed, queued.Recipients.Single(r => r.Address == "carol@c.test").State);
        Assert.All(queued.Recipients.Where(r => r.Address != "carol@c.test"), r => Assert.Equal(RecipientState.Pending, r.State));
        Assert.Contains("450 4.2.1", queued.Recipients.Single(r => r.Address == "dave@c.test").LastError, StringComparison.Ordinal);
        Assert.Contains("451 4.3.0", queued.Recipients.Single(r => r.Address == "erin@c.test").LastError, StringComparison.Ordinal);

        var bounce = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(a, "alice@a.test"))));
        var status = Assert.Single(Assert.IsType<MultipartReport>(bounce.Body).OfType<MessageDeliveryStatus>());
        var recipient = Assert.Single(status.StatusGroups.Skip(1), g => g.Count > 0);
        Assert.Equal("rfc822; carol@c.test", recipient["Final-Recipient"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.Equal("smtp; 550 5.1.1 no such user", recipient["Diagnostic-Code"]);
    }

    [Fact]
    public async Task AConnectionDroppedInTheMiddleOfTheDataLeavesEveryRecipientToBeTriedAgain()
    {
        using var peer = new ScriptedSmtpPeer(["PIPELINING"]) { DropInData = true };
        await using var a = await StartAsync("a.test", InboundServer(relay: ["127.0.0.1/32"]));
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        await RelayToThreeAsync(a);
        await outbound.RunOnceAsync(CancellationToken.None);

        var queued = Assert.Single(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal(1, queued.Attempts);
        Assert.All(queued.Recipients, r => Assert.Equal(RecipientState.Pending, r.State));
        Assert.Empty(await InboxAsync(a, "alice@a.test"));

        // The next attempt, to a peer that takes it, delivers it once to all three in one transaction.
        peer.DropInData = false;
        Assert.True(await a.Store.Queue.RetryNowAsync(queued.Id, CancellationToken.None));
        await outbound.RunOnceAsync(CancellationToken.None);
        Assert.Equal(["carol@c.test", "dave@c.test", "erin@c.test"], Assert.Single(peer.Messages).Recipients);
        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ASenderDeferredAtMailFromDefersEveryRecipientThoughPipelinedRcptsGot503()
    {
        using var peer = new ScriptedSmtpPeer(["PIPELINING"]) { MailReply = "451 4.7.1 greylisted, come back later" };
        await using var a = await StartAsync("a.test", InboundServer(relay: ["127.0.0.1/32"]));
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        await RelayToThreeAsync(a);
        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Contains(peer.Commands, c => c.StartsWith("RCPT", StringComparison.Ordinal));
        var queued = Assert.Single(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.All(queued.Recipients, r => Assert.Equal(RecipientState.Pending, r.State));
        Assert.All(queued.Recipients, r => Assert.Contains("451 4.7.1", r.LastError, StringComparison.Ordinal));
        Assert.Empty(await InboxAsync(a, "alice@a.test"));
    }

    [Fact]
    public async Task AMessageLargerThanTheNextHopsDeclaredSizeIsBouncedWithoutBeingSent()
    {
        // RFC 1870 §4: SIZE with a value is the largest message the server takes; a larger one can only fail, for good.
        using var peer = new ScriptedSmtpPeer(["PIPELINING", "8BITMIME", "SIZE 200"]);
        await using var a = await StartAsync("a.test", InboundServer(relay: ["127.0.0.1/32"]));
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("c.test", "127.0.0.1", peer.Port, SmtpRouteTls.None), CancellationToken.None);
        await using (var raw = await RawSmtpClient.ConnectAsync(a.PortOf(Inbound, BindingMode.StartTls)))
        {
            await raw.CommandAsync("EHLO client.test");
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<alice@a.test>"));
            Assert.StartsWith("250", await raw.CommandAsync("RCPT TO:<carol@c.test>"));
            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            Assert.StartsWith("250", await raw.CommandAsync("Subject: big\r\n\r\n" + new string('x', 500) + "\r\n."));
        }

        await outbound.RunOnceAsync(CancellationToken.None);

        Assert.Empty(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Empty(peer.Messages);
        Assert.DoesNotContain(peer.Commands, c => c.StartsWith("MAIL", StringComparison.Ordinal));
        var bounce = MimeMessage.Load(new MemoryStream(Assert.Single(await InboxAsync(a, "alice@a.test"))));
        var status = Assert.Single(Assert.IsType<MultipartReport>(bounce.Body).OfType<MessageDeliveryStatus>());
        Assert.Equal("5.3.4", status.StatusGroups[1]["Status"]);
        Assert.Equal("dns; 127.0.0.1", status.StatusGroups[1]["Remote-MTA"]);

        // RFC 3464 §2.3.6: "smtp" is for a reply the remote MTA gave; this one is ours.
        Assert.StartsWith("X-Postern; 552 5.3.4 message size", status.StatusGroups[1]["Diagnostic-Code"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAttemptCutShortByAStopLeavesTheMessageDueAtOnce()
    {
        // A next hop that accepts and never greets: the attempt is under way when the service stops. The message must
        // not wait out the delivery lease (15 minutes) after the restart.
        using var silent = new SilentPeer();
        await using var a = await StartAsync("a.test", SubmissionServer());
        using var outbound = new OutboundDeliveryService(a.Store, "a.example.test", Options());
        await outbound.Routes.SetAsync(new SmtpRoute("slow.test", "127.0.0.1", silent.Port, SmtpRouteTls.None), CancellationToken.None);
        await outbound.StartAsync(CancellationToken.None);
        try
        {
            await SubmitAsync(a, "alice@a.test", "carol@slow.test", "to the silent one");
            await silent.Accepted.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await outbound.StopAsync(CancellationToken.None);
        }

        var queued = Assert.Single(await a.Store.Queue.ListAsync(CancellationToken.None));
        Assert.Equal(RecipientState.Pending, Assert.Single(queued.Recipients).State);
        Assert.True(queued.NextAttempt <= DateTimeOffset.UtcNow, $"due at {queued.NextAttempt:O}");
    }
}
