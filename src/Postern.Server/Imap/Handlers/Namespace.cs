using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 2342: one personal namespace, none for other users, and the shared public folders.</summary>
internal sealed class Namespace : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        session.Writer.BeginUntagged().Atom("NAMESPACE").BeginList().BeginList().String(string.Empty).String(ImapSession.Delimiter.ToString()).EndList().EndList()
            .Nil()
            .BeginList().BeginList().String(ImapPublicFolderStore.Prefix).String(ImapSession.Delimiter.ToString()).EndList().EndList().EndLine();
        await session.OkAsync(command, "NAMESPACE completed", cancellationToken);
    }
}
