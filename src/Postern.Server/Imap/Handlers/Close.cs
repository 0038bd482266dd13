using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.4.2: silently expunge \Deleted messages (unless read-only) and leave the mailbox.</summary>
internal sealed class Close : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        var selected = session.Selected!;
        if (!selected.ReadOnly)
        {
            await session.Mail.ExpungeAsync(selected.Mailbox.Id, null, onlyDeleted: true, cancellationToken);
        }

        session.LeaveSelected();
        session.Writer.Tagged(command.Tag, ImapStatus.Ok, null, "CLOSE completed");
    }
}
