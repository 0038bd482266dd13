using Postern.Protocols.Pop3;

namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §4 and §6 QUIT.</summary>
internal static class Pop3QuitHandler
{
    public static Pop3Flow HandleBeforeLogin(Pop3Session session)
    {
        session.Ok("Postern POP3 server signing off");
        return Pop3Flow.Close;
    }

    /// <summary>
    /// The UPDATE state: the messages marked deleted are removed in one store transaction, then the lock is released
    /// (whether or not the removal worked), and only then the reply is sent and the connection closed. Only QUIT gets
    /// here: a dropped connection or an autologout removes nothing (RFC 1939 §6).
    /// </summary>
    public static async Task<Pop3Flow> HandleAsync(Pop3Session session, Pop3Maildrop maildrop, CancellationToken cancellationToken)
    {
        session.EnterUpdate();
        try
        {
            await maildrop.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            session.Logger.UpdateFailed(ex, maildrop.Account.Address);

            // RFC 1939 §6: "-ERR some deleted messages not removed"; the store's transaction removed none. The lock goes
            // before the reply here too, so a client that logs in again at once finds the maildrop free.
            await session.ReleaseMaildropAsync().ConfigureAwait(false);
            session.Error(Pop3ResponseCode.SysTemp, "Some deleted messages not removed");
            return Pop3Flow.Close;
        }

        await session.ReleaseMaildropAsync().ConfigureAwait(false);
        var left = maildrop.Count;
        session.Ok(left == 0 ? "Postern POP3 server signing off (maildrop empty)" : $"Postern POP3 server signing off ({left} messages left)");
        return Pop3Flow.Close;
    }
}
