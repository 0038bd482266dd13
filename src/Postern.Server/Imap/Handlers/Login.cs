using Postern.Protocols.Imap;
using Postern.Server.Connections;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.2.3.</summary>
internal sealed class Login : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseLogin(command.GetReader(), out var user, out var password))
        {
            session.BadArguments(command, "LOGIN needs a user name and a password");
            return;
        }

        // RFC 3501 §6.2.3: with LOGINDISABLED advertised, LOGIN is refused.
        if (!Authenticator.MayAuthenticate(session.Connection))
        {
            session.No(command, "Use STARTTLS first", "PRIVACYREQUIRED");
            return;
        }

        var result = await session.Authenticator.AuthenticateAsync(session.Connection, user, password, null, cancellationToken);
        await Authenticate.CompleteAsync(session, command, result, cancellationToken);
    }
}
