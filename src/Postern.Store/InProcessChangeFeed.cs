using System.Collections.Concurrent;

namespace Postern.Store;

/// <summary>Mailbox change notifications within one process (the SQLite engine; PostgreSQL adds NOTIFY between nodes).</summary>
public sealed class InProcessChangeFeed : IChangeFeed
{
    private readonly ConcurrentDictionary<long, ImmutableSubscribers> _subscribers = new();

    public IDisposable Subscribe(long mailboxId, Action<MailboxChange> onChange)
    {
        var subscription = new Subscription(this, mailboxId, onChange);
        _subscribers.AddOrUpdate(mailboxId, _ => new ImmutableSubscribers([subscription]), (_, s) => new ImmutableSubscribers([.. s.Items, subscription]));
        return subscription;
    }

    public void Publish(MailboxChange change)
    {
        if (_subscribers.TryGetValue(change.MailboxId, out var subscribers))
        {
            foreach (var subscriber in subscribers.Items)
            {
                subscriber.Notify(change);
            }
        }
    }

    /// <summary>Tells every subscriber that its mailbox may have changed (changes made elsewhere went unannounced).</summary>
    public void PublishToAll()
    {
        foreach (var (mailboxId, subscribers) in _subscribers)
        {
            foreach (var subscriber in subscribers.Items)
            {
                subscriber.Notify(new MailboxChange(mailboxId, MailboxChangeKind.FlagsChanged, 0, []));
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        while (_subscribers.TryGetValue(subscription.MailboxId, out var current))
        {
            var remaining = current.Items.Where(s => s != subscription).ToArray();
            var done = remaining.Length == 0
                ? _subscribers.TryRemove(new KeyValuePair<long, ImmutableSubscribers>(subscription.MailboxId, current))
                : _subscribers.TryUpdate(subscription.MailboxId, new ImmutableSubscribers(remaining), current);
            if (done)
            {
                return;
            }
        }
    }

    private sealed record ImmutableSubscribers(Subscription[] Items);

    private sealed class Subscription(InProcessChangeFeed feed, long mailboxId, Action<MailboxChange> onChange) : IDisposable
    {
        private int _disposed;

        public long MailboxId => mailboxId;

        public void Notify(MailboxChange change)
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                onChange(change);
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                feed.Remove(this);
            }
        }
    }
}
