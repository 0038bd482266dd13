using System.Net;
using Postern.Store;

namespace Postern.Server.Connections;

public enum AuthenticationOutcome
{
    Success = 0,
    Failed = 1,

    /// <summary>Too many failures from this client or for this account; try later.</summary>
    Throttled = 2,

    /// <summary>The mechanism needs TLS (or a client certificate) that this connection lacks.</summary>
    NeedsEncryption = 3,
}

public readonly record struct AuthenticationResult(AuthenticationOutcome Outcome, Account? Account);

/// <summary>
/// The only door from a pre-login session to an account (Dovecot's login/post-login split):
/// password and certificate logons, with the shared failure throttle.
/// </summary>
public sealed class Authenticator(ServerContext context)
{
    public async Task<AuthenticationResult> AuthenticateAsync(MailConnection connection, string user, string password, string? authorizationId, CancellationToken cancellationToken) =>
        Counted(connection, await AuthenticatePasswordAsync(connection, user, password, authorizationId, cancellationToken).ConfigureAwait(false));

    private async Task<AuthenticationResult> AuthenticatePasswordAsync(MailConnection connection, string user, string password, string? authorizationId, CancellationToken cancellationToken)
    {
        var client = connection.RemoteEndPoint.Address;
        var delay = context.AuthThrottle.DelayFor(client, user);
        if (delay is null)
        {
            return new AuthenticationResult(AuthenticationOutcome.Throttled, null);
        }

        if (delay.Value > TimeSpan.Zero)
        {
            await Task.Delay(delay.Value, cancellationToken).ConfigureAwait(false);
        }

        var account = await context.Store.Directory.AuthenticateAsync(user, password, cancellationToken).ConfigureAwait(false);

        // An authorization identity other than the login itself would be a proxy login: not allowed.
        if (account is null || (!string.IsNullOrEmpty(authorizationId) && !authorizationId.Equals(account.Address, StringComparison.OrdinalIgnoreCase)))
        {
            context.AuthThrottle.RecordFailure(client, user);
            return new AuthenticationResult(AuthenticationOutcome.Failed, null);
        }

        context.AuthThrottle.RecordSuccess(client, account.Address);
        return new AuthenticationResult(AuthenticationOutcome.Success, account);
    }

    /// <summary>SASL EXTERNAL: the TLS client certificate names the account (RFC 4422 Appendix A).</summary>
    public async Task<AuthenticationResult> AuthenticateExternalAsync(MailConnection connection, string? authorizationId, CancellationToken cancellationToken) =>
        Counted(connection, await AuthenticateCertificateAsync(connection, authorizationId, cancellationToken).ConfigureAwait(false));

    private static AuthenticationResult Counted(MailConnection connection, AuthenticationResult result)
    {
        // A throttled attempt is a refused logon too; EXTERNAL without a client certificate was never a logon attempt.
        if (result.Outcome != AuthenticationOutcome.NeedsEncryption)
        {
            ServerMetrics.For(connection.VirtualServer.Config.Protocol)?.Logon(result.Outcome == AuthenticationOutcome.Success);
        }

        return result;
    }

    private async Task<AuthenticationResult> AuthenticateCertificateAsync(MailConnection connection, string? authorizationId, CancellationToken cancellationToken)
    {
        var certificate = connection.Tls?.ClientCertificate;
        if (certificate is null || context.ClientCertificateAccounts is null)
        {
            return new AuthenticationResult(AuthenticationOutcome.NeedsEncryption, null);
        }

        var client = connection.RemoteEndPoint.Address;
        if (context.AuthThrottle.DelayFor(client, null) is null)
        {
            return new AuthenticationResult(AuthenticationOutcome.Throttled, null);
        }

        var address = await context.ClientCertificateAccounts(certificate, cancellationToken).ConfigureAwait(false);
        var account = address is null ? null : await context.Store.Directory.FindAccountAsync(address, cancellationToken).ConfigureAwait(false);
        if (account is null || !account.Enabled || (!string.IsNullOrEmpty(authorizationId) && !authorizationId.Equals(account.Address, StringComparison.OrdinalIgnoreCase)))
        {
            context.AuthThrottle.RecordFailure(client, null);
            return new AuthenticationResult(AuthenticationOutcome.Failed, null);
        }

        return new AuthenticationResult(AuthenticationOutcome.Success, account);
    }

    /// <summary>
    /// Whether credentials may be sent on this connection now: over TLS, or in clear text where the virtual server allows
    /// plaintext authentication and does not require a secure channel (the article's option).
    /// </summary>
    public static bool MayAuthenticate(MailConnection connection) =>
        connection.IsSecure || (!connection.VirtualServer.RequireSecureChannel && connection.VirtualServer.Config.Security.AllowPlaintextAuthentication);

    public static bool IsLoopback(IPAddress address) => IPAddress.IsLoopback(address);
}
