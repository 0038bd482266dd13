using System.Runtime.CompilerServices;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>
/// Wakes the outbound delivery loop as soon as a message is queued, instead of waiting for the next poll.
/// One per store, so two in-process servers in a test don't wake each other.
/// </summary>
internal sealed class OutboundQueueSignal
{
    private static readonly ConditionalWeakTable<IPosternStore, OutboundQueueSignal> s_signals = [];
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public static OutboundQueueSignal For(IPosternStore store) => s_signals.GetValue(store, _ => new OutboundQueueSignal());

    public void Set()
    {
        try
        {
            if (_semaphore.CurrentCount == 0)
            {
                _semaphore.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already set.
        }
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _semaphore.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
}
