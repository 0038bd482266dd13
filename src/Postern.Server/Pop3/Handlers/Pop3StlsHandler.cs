namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 2595 §4 STLS.</summary>
internal static class Pop3StlsHandler
{
    public static async Task<Pop3Flow> HandleAsync(Pop3Session session, CancellationToken cancellationToken)
    {
        if (session.Connection.IsSecure)
        {
            session.Error(null, "TLS is already active");
            return Pop3Flow.Continue;
        }

        if (!session.Connection.CanStartTls)
        {
            session.Error(null, "STLS is not available");
            return Pop3Flow.Continue;
        }

        return await session.StartTlsAsync(cancellationToken).ConfigureAwait(false);
    }
}
