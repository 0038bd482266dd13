using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 2971: the client's identification is accepted (and ignored); the server names itself.</summary>
internal sealed class Id : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseId(command.GetReader(), out _))
        {
            session.BadArguments(command, "Invalid ID parameters");
            return;
        }

        session.Writer.BeginUntagged().Atom("ID").BeginList().String("name").String("Postern").String("vendor").String("Postern").EndList().EndLine();
        await session.OkAsync(command, "ID completed", cancellationToken);
    }
}
