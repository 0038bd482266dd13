using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>
/// The session's view of its selected mailbox: the message list that message sequence numbers index, kept in step with
/// the store through the change feed. Changes made elsewhere are reported only when <see cref="SyncAsync"/> runs,
/// which is at the end of a command (RFC 3501 §5.2) or during IDLE.
/// </summary>
internal sealed class ImapSelectedMailbox : IDisposable
{
    private readonly IMailStore _mail;
    private readonly IDisposable _subscription;
    private readonly HashSet<long> _pendingExpunge = [];
    private HashSet<long>? _recent;
    private IReadOnlyList<MessageRecord> _messages = [];
    private long _syncedModSeq;
    private int _dirty;

    private ImapSelectedMailbox(IMailStore mail, IChangeFeed changes, Mailbox mailbox, bool readOnly)
    {
        _mail = mail;
        Mailbox = mailbox;
        ReadOnly = readOnly;
        HighestModSeq = mailbox.HighestModSeq;
        _syncedModSeq = mailbox.HighestModSeq;
        _subscription = changes.Subscribe(mailbox.Id, _ =>
        {
            Interlocked.Exchange(ref _dirty, 1);
            Changed?.Invoke();
        });
    }

    /// <summary>Raised on a store thread whenever the mailbox changes (used to wake IDLE).</summary>
    public event Action? Changed;

    public Mailbox Mailbox { get; }

    public bool ReadOnly { get; }

    public long HighestModSeq { get; private set; }

    public IReadOnlyList<MessageRecord> Messages => _messages;

    public uint LargestUid => _messages.Count == 0 ? 0 : (uint)_messages[^1].Uid;

    /// <summary>RFC 3501 §2.3.2: this session is the first to have been told of the message (\Recent).</summary>
    public bool IsRecent(long uid) => _recent?.Contains(uid) == true;

    public int RecentCount => _recent?.Count ?? 0;

    /// <summary>
    /// Opens the view. It subscribes to the change feed before it reads, so nothing committed after <paramref name="mailbox"/>
    /// was read goes unreported. Sessions that open the same mailbox at the same MODSEQ share one message list
    /// (<see cref="ImapMailboxSnapshots"/>) until one of them changes its own view.
    /// </summary>
    public static async Task<ImapSelectedMailbox> OpenAsync(IMailStore mail, IChangeFeed changes, ImapMailboxSnapshots snapshots, Mailbox mailbox, bool readOnly,
        CancellationToken cancellationToken)
    {
        var selected = new ImapSelectedMailbox(mail, changes, mailbox, readOnly);
        try
        {
            // Public folders carry per-user flags: their lists are never shared.
            var shareable = !ImapPublicFolderStore.IsPublic(mailbox.Id);
            if (shareable && snapshots.TryGet(mailbox.Id, mailbox.HighestModSeq) is { } shared)
            {
                selected._messages = shared;

                // A change committed between reading the mailbox and subscribing: the next sync reports it.
                var now = await mail.GetMailboxByIdAsync(mailbox.Id, cancellationToken).ConfigureAwait(false);
                if (now is null || now.HighestModSeq != mailbox.HighestModSeq)
                {
                    selected.MarkDirty();
                }
            }
            else
            {
                MessageRecord[] messages = [.. await mail.ListMessagesAsync(mailbox.Id, cancellationToken).ConfigureAwait(false)];
                selected._messages = messages;
                if (shareable)
                {
                    snapshots.Add(mailbox.Id, mailbox.HighestModSeq, messages);
                }
            }

            await selected.ClaimRecentAsync(selected._messages, cancellationToken).ConfigureAwait(false);
            return selected;
        }
        catch
        {
            selected.Dispose();
            throw;
        }
    }

    /// <summary>Marks the view stale so the next sync reloads it (after this session's own writes).</summary>
    public void MarkDirty() => Interlocked.Exchange(ref _dirty, 1);

    /// <summary>The messages a set names, with their sequence numbers, ascending.</summary>
    public List<(int Sequence, MessageRecord Message)> Resolve(ImapSequenceSet set, bool byUid, IReadOnlyList<long> savedSearch)
    {
        var result = new List<(int, MessageRecord)>();
        if (set.IsSavedResult)
        {
            // RFC 5182: "$" is the saved list of UIDs, whichever command uses it.
            var saved = savedSearch.ToHashSet();
            for (var i = 0; i < _messages.Count; i++)
            {
                if (saved.Contains(_messages[i].Uid))
                {
                    result.Add((i + 1, _messages[i]));
                }
            }

            return result;
        }

        if (!byUid)
        {
            foreach (var (start, end) in set.Resolve((uint)_messages.Count))
            {
                for (var n = start; n <= end && n <= _messages.Count; n++)
                {
                    result.Add(((int)n, _messages[(int)n - 1]));
                }
            }

            return result;
        }

        var ranges = set.Resolve(LargestUid);
        for (var i = 0; i < _messages.Count; i++)
        {
            var uid = (uint)_messages[i].Uid;
            foreach (var (start, end) in ranges)
            {
                if (uid >= start && uid <= end)
                {
                    result.Add((i + 1, _messages[i]));
                    break;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// RFC 3501 §9 (seq-number): a message sequence number above the number of messages is invalid (BAD), "This includes
    /// '*' if the selected mailbox is empty" (Dovecot: "Invalid messageset"). UIDs are always acceptable.
    /// </summary>
    public bool IsValidSequenceSet(ImapSequenceSet set, bool byUid)
    {
        if (byUid || set.IsSavedResult)
        {
            return true;
        }

        var count = (uint)_messages.Count;
        return count > 0 && set.Ranges.All(r => (r.Start == ImapSequenceSet.Star || r.Start <= count) && (r.End == ImapSequenceSet.Star || r.End <= count));
    }

    /// <summary>Records a message this session itself changed (its STORE reply already told the client).</summary>
    public void Update(MessageRecord updated)
    {
        var index = IndexOf(updated.Uid);
        if (index >= 0)
        {
            Own()[index] = updated;
        }

        HighestModSeq = Math.Max(HighestModSeq, updated.ModSeq);
    }

    public int IndexOf(long uid)
    {
        int low = 0, high = _messages.Count - 1;
        while (low <= high)
        {
            var mid = (low + high) / 2;
            var value = _messages[mid].Uid;
            if (value == uid)
            {
                return mid;
            }

            if (value < uid)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return -1;
    }

    /// <summary>
    /// Reports what changed since the last sync: EXPUNGE (or VANISHED with QRESYNC), flag changes as FETCH, and EXISTS.
    /// RFC 3501 §7.4.1: no EXPUNGE during FETCH, STORE or SEARCH — <paramref name="allowExpunge"/> false keeps expunged
    /// messages in the view until a later command may report them.
    /// </summary>
    public async Task SyncAsync(ImapSession session, bool allowExpunge, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _dirty, 0) == 0)
        {
            return;
        }

        // The watermark is read before the changes, so a change committed in between is seen now or at the next sync.
        var status = await _mail.GetMailboxByIdAsync(Mailbox.Id, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<MessageRecord> changed;
        if (status is null || ImapPublicFolderStore.IsPublic(Mailbox.Id))
        {
            // A deleted mailbox, or a public folder (whose removals leave no expunged record): compare the whole list.
            changed = await _mail.ListMessagesAsync(Mailbox.Id, cancellationToken).ConfigureAwait(false);
            var present = changed.Select(m => m.Uid).ToHashSet();
            _pendingExpunge.UnionWith(_messages.Where(m => !present.Contains(m.Uid)).Select(m => m.Uid));
        }
        else
        {
            // Only what changed since the last sync (messages and expunged UIDs carry the MODSEQ of their change).
            changed = await _mail.ListMessagesChangedSinceAsync(Mailbox.Id, _syncedModSeq, cancellationToken).ConfigureAwait(false);
            _pendingExpunge.UnionWith(await _mail.ListExpungedSinceAsync(Mailbox.Id, _syncedModSeq, cancellationToken).ConfigureAwait(false));
            _syncedModSeq = Math.Max(_syncedModSeq, status.HighestModSeq);
        }

        var writer = session.Writer;
        if (_pendingExpunge.Count > 0 && allowExpunge)
        {
            var expunged = new List<long>();
            for (var i = _messages.Count - 1; i >= 0; i--)
            {
                if (!_pendingExpunge.Contains(_messages[i].Uid))
                {
                    continue;
                }

                expunged.Add(_messages[i].Uid);
                _recent?.Remove(_messages[i].Uid);
                if (!session.QResyncEnabled)
                {
                    writer.BeginUntagged().Number((ulong)(i + 1)).Atom("EXPUNGE").EndLine();
                }

                Own().RemoveAt(i);
            }

            _pendingExpunge.Clear();
            if (expunged.Count > 0 && session.QResyncEnabled)
            {
                // RFC 7162 §3.2.10: with QRESYNC enabled, VANISHED replaces EXPUNGE.
                writer.BeginUntagged().Atom("VANISHED").Atom(ImapSequenceSet.Format(expunged.Select(u => (uint)u))).EndLine();
            }
        }

        var largest = _messages.Count == 0 ? 0 : _messages[^1].Uid;
        var added = new List<MessageRecord>();
        foreach (var current in changed)
        {
            if (current.Uid > largest)
            {
                added.Add(current);
                continue;
            }

            // A message's MODSEQ only grows: a record no newer than this view's is nothing new (or a read that began
            // before this session's own STORE committed), and must not undo what the client was already told.
            var i = IndexOf(current.Uid);
            if (i < 0 || current.ModSeq <= _messages[i].ModSeq)
            {
                continue;
            }

            var old = _messages[i];
            Own()[i] = current;
            if (old.Flags != current.Flags || !old.Keywords.SequenceEqual(current.Keywords, StringComparer.OrdinalIgnoreCase) || session.CondStoreEnabled)
            {
                session.AnnounceKeywords(current.Keywords);
                writer.BeginUntagged().Number((ulong)(i + 1)).Atom("FETCH").BeginList()
                    .Atom("FLAGS").Flags((ImapSystemFlags)current.Flags, current.Keywords, session.ShowsRecent(current.Uid))
                    .Atom("UID").Number((ulong)current.Uid);
                if (session.CondStoreEnabled)
                {
                    writer.Atom("MODSEQ").BeginList().Number((ulong)current.ModSeq).EndList();
                }

                writer.EndList().EndLine();
            }
        }

        // A message appended and expunged between two syncs is never announced.
        added.RemoveAll(m => _pendingExpunge.Remove(m.Uid));
        if (added.Count > 0)
        {
            Own().AddRange(added);
            writer.BeginUntagged().Number((ulong)_messages.Count).Atom("EXISTS").EndLine();
            await ClaimRecentAsync(added, cancellationToken).ConfigureAwait(false);

            // RFC 3501 §7.3.2: RECENT goes with EXISTS (IMAP4rev2 has no \Recent).
            if (session.Enabled.ReportsRecentAndUnseen)
            {
                writer.BeginUntagged().Number((ulong)RecentCount).Atom("RECENT").EndLine();
            }
        }

        if (changed.Count > 0)
        {
            HighestModSeq = Math.Max(HighestModSeq, changed.Max(m => m.ModSeq));
        }

        if (status is not null)
        {
            HighestModSeq = Math.Max(HighestModSeq, status.HighestModSeq);
        }

        // RFC 3501 §7.4.1: expunges held back (no EXPUNGE during FETCH, STORE, SEARCH) go out after a later command;
        // UIDs this view never held need no report.
        _pendingExpunge.RemoveWhere(uid => IndexOf(uid) < 0);
        if (_pendingExpunge.Count > 0)
        {
            Interlocked.Exchange(ref _dirty, 1);
        }
    }

    public void Dispose() => _subscription.Dispose();

    /// <summary>
    /// Makes the messages this session is the first to see recent for it (a read-write session claims them; a read-only
    /// one only looks, RFC 3501 §6.3.2: EXAMINE leaves \Recent as it is).
    /// </summary>
    private async Task ClaimRecentAsync(IReadOnlyList<MessageRecord> seen, CancellationToken cancellationToken)
    {
        if (seen.Count == 0)
        {
            return;
        }

        long first;
        try
        {
            first = await _mail.ClaimRecentAsync(Mailbox.Id, seen[^1].Uid, claim: !ReadOnly, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFull.Is(ex))
        {
            // On a full disk the mail must still be readable: the messages nobody has claimed are recent for this
            // session too, but the claim is not kept, so another session may also see them recent.
            first = await _mail.ClaimRecentAsync(Mailbox.Id, seen[^1].Uid, claim: false, cancellationToken).ConfigureAwait(false);
        }

        for (var i = seen.Count - 1; i >= 0 && seen[i].Uid >= first; i--)
        {
            (_recent ??= []).Add(seen[i].Uid);
        }
    }

    /// <summary>The session's own copy of the list, made on its first change (the shared snapshot is never written).</summary>
    private List<MessageRecord> Own()
    {
        if (_messages is not List<MessageRecord> own)
        {
            own = [.. _messages];
            _messages = own;
        }

        return own;
    }
}
