using Postern.Protocols.Pop3;

namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §7 PASS string: valid only right after a successful USER.</summary>
internal static class Pop3PassHandler
{
    public static async Task<Pop3Flow> HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        if (session.PendingUser is not { } user)
        {
            session.Error(null, "No USER given");
            return Pop3Flow.Continue;
        }

        var result = await session.Authenticator.AuthenticateAsync(session.Connection, user, command.Argument ?? "", null, cancellationToken).ConfigureAwait(false);
        return await session.CompleteLoginAsync(result, "USER", cancellationToken).ConfigureAwait(false);
    }
}
