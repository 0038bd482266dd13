using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.1.1.</summary>
internal sealed class Capability : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        session.Writer.UntaggedLine("CAPABILITY " + string.Join(' ', ImapCapabilities.For(session)));
        await session.OkAsync(command, "CAPABILITY completed", cancellationToken);
    }
}
