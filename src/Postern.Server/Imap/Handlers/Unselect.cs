using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3691: leave the mailbox without expunging.</summary>
internal sealed class Unselect : IImapHandler
{
    public Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        session.LeaveSelected();
        session.Writer.Tagged(command.Tag, ImapStatus.Ok, null, "UNSELECT completed");
        return Task.CompletedTask;
    }
}
