using System.Runtime.CompilerServices;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>
/// Message lists of selected mailboxes, shared by the sessions that open the same mailbox at the same MODSEQ (a client
/// with several connections, or many IDLE sessions). Each list is held weakly: it lives as long as a session uses it.
/// A session copies the list before it changes its own view, so a shared list never changes.
/// </summary>
public sealed class ImapMailboxSnapshots
{
    private static readonly ConditionalWeakTable<IPosternStore, ImapMailboxSnapshots> PerStore = [];

    private readonly Dictionary<long, (long ModSeq, WeakReference<MessageRecord[]> Messages)> _byMailbox = [];
    private int _addsSincePrune;

    /// <summary>The snapshots of one store (one server); mailbox IDs mean nothing across stores.</summary>
    public static ImapMailboxSnapshots For(IPosternStore store) => PerStore.GetValue(store, _ => new ImapMailboxSnapshots());

    public MessageRecord[]? TryGet(long mailboxId, long modSeq)
    {
        lock (_byMailbox)
        {
            return _byMailbox.TryGetValue(mailboxId, out var entry) && entry.ModSeq == modSeq && entry.Messages.TryGetTarget(out var messages) ? messages : null;
        }
    }

    public void Add(long mailboxId, long modSeq, MessageRecord[] messages)
    {
        lock (_byMailbox)
        {
            _byMailbox[mailboxId] = (modSeq, new WeakReference<MessageRecord[]>(messages));
            if (++_addsSincePrune >= 1024)
            {
                _addsSincePrune = 0;
                foreach (var (id, entry) in _byMailbox.ToList())
                {
                    if (!entry.Messages.TryGetTarget(out _))
                    {
                        _byMailbox.Remove(id);
                    }
                }
            }
        }
    }
}
