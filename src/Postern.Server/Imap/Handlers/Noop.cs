using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.1.2: does nothing, but lets pending mailbox updates out.</summary>
internal sealed class Noop : IImapHandler
{
    public Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken) =>
        session.OkAsync(command, "NOOP completed", cancellationToken);
}
