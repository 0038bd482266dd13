using Postern.Server.Imap;
using Postern.Store;

namespace Postern.UnitTests.Imap;

public sealed class ImapMailboxSnapshotsTests
{
    private static MessageRecord Message(long uid, long modSeq) =>
        new(uid, 7, uid, uid, 100, DateTimeOffset.UnixEpoch, MessageFlags.None, [], modSeq);

    [Fact]
    public void A_list_is_shared_only_at_the_same_modseq()
    {
        var snapshots = new ImapMailboxSnapshots();
        MessageRecord[] messages = [Message(1, 3), Message(2, 5)];
        snapshots.Add(7, 5, messages);

        Assert.Same(messages, snapshots.TryGet(7, 5));
        Assert.Null(snapshots.TryGet(7, 6));
        Assert.Null(snapshots.TryGet(8, 5));
        GC.KeepAlive(messages);
    }

    [Fact]
    public void A_newer_list_replaces_the_older_one()
    {
        var snapshots = new ImapMailboxSnapshots();
        MessageRecord[] first = [Message(1, 3)];
        MessageRecord[] second = [Message(1, 3), Message(2, 4)];
        snapshots.Add(7, 3, first);
        snapshots.Add(7, 4, second);

        Assert.Null(snapshots.TryGet(7, 3));
        Assert.Same(second, snapshots.TryGet(7, 4));
        GC.KeepAlive(first);
        GC.KeepAlive(second);
    }
}
