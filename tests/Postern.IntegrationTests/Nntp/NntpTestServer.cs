using Postern.Server.Connections;
using Postern.IntegrationTests.Infrastructure;
using Postern.Server.Nntp;
using Postern.Store;

namespace Postern.IntegrationTests.Nntp;

internal static class NntpTestServer
{
    public const string Name = "News";
    public const string User = "reader@example.test";
    public const string Password = "correct horse";

    public static VirtualServer Config(bool requireSecure = false, IReadOnlyDictionary<string, string>? settings = null, long maxSize = 64 * 1024) => new()
    {
        Name = Name,
        Protocol = ServiceProtocol.Nntp,
        Bindings = [new Binding("127.0.0.1", 0, BindingMode.StartTls), new Binding("127.0.0.1", 0, BindingMode.ImplicitTls)],
        // Transcripts log in over clear text for readability; the default (refused) has its own tests.
        Security = new SecurityOptions { RequireSecureChannel = requireSecure, AllowPlaintextAuthentication = true },
        Limits = new ConnectionLimits { MaxLineLength = NntpDefaults.CommandLineLength - 2, MaxMessageSize = maxSize, MaxBadCommands = 10 },
        Settings = settings ?? new Dictionary<string, string>(),
    };

    public static async Task<InProcessServer> StartAsync(VirtualServer? config = null, Action? articleAccepted = null, MessageMemoryBudget? messageMemory = null)
    {
        var server = await InProcessServer.StartAsync(ctx => [new NntpProtocolHandler(ctx, articleAccepted)], [config ?? Config()], messageMemory: messageMemory);
        Assert.True((await server.Store.Directory.AddAccountAsync(User, Password, CancellationToken.None)).IsOk);
        Assert.True((await server.Store.PublicFolders.AddFolderAsync("Example/General", "example.general", "General discussion", CancellationToken.None)).IsOk);
        return server;
    }

    public static int Port(this InProcessServer server, BindingMode mode = BindingMode.StartTls) => server.PortOf(Name, mode);

    public static string Article(string subject = "Hello", string newsgroups = "example.general", string? messageId = null, string body = "First line.\n.A line with a leading dot\nLast line.", string? extraHeaders = null) =>
        $"From: Reader <reader@example.test>\nNewsgroups: {newsgroups}\nSubject: {subject}\n" +
        (messageId is null ? "" : $"Message-ID: {messageId}\n") + (extraHeaders ?? "") + "\n" + body + "\n";
}
