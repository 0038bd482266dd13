using System.Runtime.CompilerServices;

namespace Postern.Server.Connections;

/// <summary>
/// Where a session's code runs. <c>postern serve</c> turns on the runtime's inline socket completions, so a session
/// continues on the socket engine's event thread after each read and a short command is answered without a thread
/// switch (POP3 RETR on open sessions: about 20k → 32k replies/s, see docs/PERFORMANCE.md). Work that may take long (a
/// scan of a large mailbox, a large message, a password hash, an fsync) must not run there: every connection that
/// thread serves would wait for it. Such work first awaits <see cref="ToThreadPool"/>.
/// </summary>
public static class EventThread
{
    /// <summary>The largest message or article a command handles on the event thread; a larger one moves to the pool.</summary>
    public const int InlineMessageBytes = 256 * 1024;

    /// <summary>The most messages whose content a command handles on the event thread.</summary>
    public const int InlineMessageCount = 64;

    /// <summary>The most messages whose flags or sizes alone a command handles on the event thread.</summary>
    public const int InlineListLength = 4096;

    /// <summary>Continues on a thread-pool thread; completes at once when already on one.</summary>
    public static ThreadPoolHop ToThreadPool() => default;

    /// <summary>Moves to the pool when the condition holds (a large message, a long list).</summary>
    public static ThreadPoolHop ToThreadPoolIf(bool condition) => new(!condition);
}

/// <summary>The awaitable behind <see cref="EventThread.ToThreadPool"/>.</summary>
public readonly struct ThreadPoolHop(bool stay) : ICriticalNotifyCompletion, IEquatable<ThreadPoolHop>
{
    private readonly bool _stay = stay;

    public bool IsCompleted => _stay || Thread.CurrentThread.IsThreadPoolThread;

    public ThreadPoolHop GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

    public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);

    public bool Equals(ThreadPoolHop other) => _stay == other._stay;

    public override bool Equals(object? obj) => obj is ThreadPoolHop other && Equals(other);

    public override int GetHashCode() => _stay.GetHashCode();

    public static bool operator ==(ThreadPoolHop left, ThreadPoolHop right) => left.Equals(right);

    public static bool operator !=(ThreadPoolHop left, ThreadPoolHop right) => !left.Equals(right);
}
