using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.4.1: a checkpoint; every write is already durable, so it is a NOOP.</summary>
internal sealed class Check : IImapHandler
{
    public Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken) =>
        session.OkAsync(command, "CHECK completed", cancellationToken);
}
