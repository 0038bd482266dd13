using System.Text;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Imap;
using Postern.Server.Pop3;
using Postern.Store;

namespace Postern.IntegrationTests.Pop3;

/// <summary>An in-process server with two POP3 virtual servers: "POP3" (995-style and 110-style bindings) and "POP3 Secure" (Require secure channel).</summary>
internal sealed class Pop3TestServer : IAsyncDisposable
{
    public const string Name = "POP3";
    public const string SecureName = "POP3 Secure";
    public const string Password = "correct horse";

    private Pop3TestServer(InProcessServer server, Pop3ProtocolHandler handler)
    {
        Server = server;
        Handler = handler;
    }

    public InProcessServer Server { get; }

    public Pop3ProtocolHandler Handler { get; }

    public IPosternStore Store => Server.Store;

    public int ImplicitTlsPort => Server.PortOf(Name, BindingMode.ImplicitTls);

    public int StartTlsPort => Server.PortOf(Name, BindingMode.StartTls);

    public int SecureChannelPort => Server.PortOf(SecureName, BindingMode.StartTls);

    /// <summary>An IMAP virtual server on the same store (plain, clear-text login allowed), when asked for.</summary>
    public int ImapPort => Server.PortOf(ImapName, BindingMode.StartTls);

    public const string ImapName = "IMAP";

    public static async Task<Pop3TestServer> StartAsync(Func<VirtualServer, VirtualServer>? configure = null, TimeSpan? lockLifetime = null, bool withImap = false)
    {
        var defaults = Pop3Defaults.Create("mail.example.test")[0];
        var plain = defaults with
        {
            Name = Name,
            Bindings = [new Binding("127.0.0.1", 0, BindingMode.ImplicitTls), new Binding("127.0.0.1", 0, BindingMode.StartTls)],

            // Transcripts log in over clear text for readability; the default (refused) has its own tests.
            Security = defaults.Security with { AllowPlaintextAuthentication = true },
        };
        var secure = defaults with
        {
            Name = SecureName,
            Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls)],
            Security = defaults.Security with { RequireSecureChannel = true },
        };
        var imap = new VirtualServer
        {
            Name = ImapName,
            Protocol = ServiceProtocol.Imap,
            Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls)],
            Security = new SecurityOptions { AllowPlaintextAuthentication = true },
        };
        Pop3ProtocolHandler? handler = null;
        var server = await InProcessServer.StartAsync(
            context => withImap
                ? [handler = new Pop3ProtocolHandler(context, lockLifetime), new ImapProtocolHandler(context)]
                : [handler = new Pop3ProtocolHandler(context, lockLifetime)],
            withImap
                ? [configure?.Invoke(plain) ?? plain, configure?.Invoke(secure) ?? secure, imap]
                : [configure?.Invoke(plain) ?? plain, configure?.Invoke(secure) ?? secure]);
        return new Pop3TestServer(server, handler!);
    }

    public async Task<Account> AddUserAsync(string address)
    {
        var result = await Store.Directory.AddAccountAsync(address, Password, CancellationToken.None);
        Assert.True(result.IsOk, result.Message);
        return result.Value!;
    }

    public async Task<Mailbox> InboxAsync(Account account) =>
        (await Store.Mail.GetMailboxAsync(account.Id, "INBOX", CancellationToken.None))!;

    public async Task<AppendResult> DeliverAsync(Account account, string content)
    {
        var inbox = await InboxAsync(account);
        var result = await Store.Mail.AppendAsync(inbox.Id, Encoding.UTF8.GetBytes(content), MessageFlags.None, [], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.True(result.IsOk, result.Message);
        return result.Value!;
    }

    public static string Message(int n, string body = "Hello.") =>
        $"From: sender@example.test\r\nTo: alice@example.test\r\nSubject: Message {n}\r\nMessage-ID: <m{n}@example.test>\r\n\r\n{body}\r\n";

    public async Task<int> CountAsync(Account account) =>
        (await Store.Mail.ListMessagesAsync((await InboxAsync(account)).Id, CancellationToken.None)).Count;

    /// <summary>Sessions release their lock when the server notices the client left; wait for that.</summary>
    public async Task WaitForLocksReleasedAsync()
    {
        for (var i = 0; i < 200 && Handler.Locks.HeldCount > 0; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(0, Handler.Locks.HeldCount);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
