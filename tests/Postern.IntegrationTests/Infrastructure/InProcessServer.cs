using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Postern.Pki;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.IntegrationTests.Infrastructure;

/// <summary>
/// A real store in a temporary data folder and the real listener host on ephemeral ports (port 0),
/// with whatever protocol handlers and virtual servers a test names.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private InProcessServer(string dataDirectory, IPosternStore store, ServerContext context, VirtualServerHost host)
    {
        DataDirectory = dataDirectory;
        Store = store;
        Context = context;
        Host = host;
    }

    public string DataDirectory { get; }

    public IPosternStore Store { get; }

    public ServerContext Context { get; }

    public VirtualServerHost Host { get; }

    public static async Task<InProcessServer> StartAsync(
        Func<ServerContext, IEnumerable<IProtocolHandler>> handlers,
        IEnumerable<VirtualServer> virtualServers,
        IServerCertificateSelector? certificates = null,
        ILoggerFactory? loggerFactory = null,
        MessageMemoryBudget? messageMemory = null,
        Func<IPosternStore, IPosternStore>? wrapStore = null)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "postern-test-" + Guid.NewGuid().ToString("N"));
        var store = PosternStoreFactory.Open(Postern.Tests.TestStoreOptions.For(dataDirectory));
        store = wrapStore?.Invoke(store) ?? store;
        var context = new ServerContext
        {
            Store = store,
            Certificates = certificates ?? TestCertificates.Shared,
            HostName = "mail.example.test",
            LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance,
            MessageMemory = messageMemory ?? new MessageMemoryBudget(MessageMemoryBudget.DefaultCapacityBytes),
        };
        foreach (var virtualServer in virtualServers)
        {
            var saved = await store.Configuration.SaveVirtualServerAsync(virtualServer, CancellationToken.None);
            Assert.True(saved.IsOk, saved.Message);
        }

        var host = new VirtualServerHost(context, handlers(context));
        await host.ReloadAsync(CancellationToken.None);
        return new InProcessServer(dataDirectory, store, context, host);
    }

    /// <summary>The actual port of a virtual server's binding (bindings use port 0 in tests).</summary>
    public int PortOf(string virtualServer, BindingMode mode) =>
        Host.Status.Single(s => s.VirtualServer == virtualServer && s.Mode == mode && s.Listening).Port;

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Store.DisposeAsync();
        try
        {
            Postern.Tests.TestStoreOptions.Drop(DataDirectory);
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
