using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>One IMAP verb. Handlers write their replies through the session and never format bytes by hand.</summary>
internal interface IImapHandler
{
    Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken);
}
