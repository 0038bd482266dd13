using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.1.3: BYE, then the tagged OK, then close.</summary>
internal sealed class Logout : IImapHandler
{
    public Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        session.Writer.Untagged(ImapStatus.Bye, null, "Postern IMAP4rev1 server logging out");
        session.Writer.Tagged(command.Tag, ImapStatus.Ok, null, "LOGOUT completed");
        session.LeaveSelected();
        session.EnterLogout();
        return Task.CompletedTask;
    }
}
