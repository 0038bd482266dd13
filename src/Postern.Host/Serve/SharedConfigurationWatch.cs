using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Host.Serve;

/// <summary>
/// On a store shared by several nodes, applies here what an administrator changed through another node (a virtual
/// server set, stopped or started; a certificate installed or assigned): the configuration version is read every
/// <see cref="Interval"/>, and a new one reloads the listeners and the certificate selection, as a change through this
/// node's own admin API does at once.
/// </summary>
internal sealed class SharedConfigurationWatch : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public SharedConfigurationWatch(IConfigurationStore configuration, VirtualServerHost host, Pki.PkiService pki, long version, ILogger logger)
    {
        _loop = Task.Run(() => WatchAsync(configuration, host, pki, version, logger, _stopping.Token));
    }

    private static async Task WatchAsync(IConfigurationStore configuration, VirtualServerHost host, Pki.PkiService pki, long seen, ILogger logger, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    var version = await configuration.GetVersionAsync(cancellationToken).ConfigureAwait(false);
                    if (version == seen)
                    {
                        continue;
                    }

                    await pki.ReloadAsync(cancellationToken).ConfigureAwait(false);
                    await host.ReloadAsync(cancellationToken).ConfigureAwait(false);
                    seen = version;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database may be briefly unreachable; the next tick tries again.
                    logger.SharedConfigurationDeferred(ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
