using Postern.Server.Connections;

namespace Postern.UnitTests.Connections;

public sealed class EventThreadTests
{
    [Fact]
    public async Task Code_on_a_dedicated_thread_continues_on_the_thread_pool_after_the_hop()
    {
        // A socket engine's event thread is a dedicated thread, as this one is.
        var result = await OnDedicatedThreadAsync(async () =>
        {
            var before = (Thread.CurrentThread.IsThreadPoolThread, Environment.CurrentManagedThreadId);
            await EventThread.ToThreadPool();
            return (before, after: (Thread.CurrentThread.IsThreadPoolThread, Environment.CurrentManagedThreadId));
        });

        Assert.False(result.before.IsThreadPoolThread);
        Assert.True(result.after.IsThreadPoolThread);
        Assert.NotEqual(result.before.CurrentManagedThreadId, result.after.CurrentManagedThreadId);
    }

    [Fact]
    public async Task A_hop_whose_condition_does_not_hold_stays_on_the_event_thread()
    {
        var result = await OnDedicatedThreadAsync(async () =>
        {
            var before = Environment.CurrentManagedThreadId;
            await EventThread.ToThreadPoolIf(false);
            return (before, after: Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread);
        });

        Assert.Equal(result.before, result.after);
        Assert.False(result.IsThreadPoolThread);
    }

    [Fact]
    public async Task On_a_pool_thread_the_hop_completes_at_once()
    {
        await Task.Run(() => Assert.True(EventThread.ToThreadPool().IsCompleted));
    }

    /// <summary>Runs an async function started on a new dedicated thread and returns its result.</summary>
    internal static Task<T> OnDedicatedThreadAsync<T>(Func<Task<T>> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            work().ContinueWith(t =>
            {
                if (t.IsFaulted)
                {
                    completion.SetException(t.Exception!.InnerExceptions);
                }
                else
                {
                    completion.SetResult(t.Result);
                }
            }, TaskScheduler.Default);
        })
        { IsBackground = true };
        thread.Start();
        return completion.Task;
    }
}
