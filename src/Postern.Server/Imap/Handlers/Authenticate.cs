using System.Text;
using Postern.Protocols.Imap;
using Postern.Protocols.Sasl;
using Postern.Server.Connections;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.2.2 with SASL-IR (RFC 4959): PLAIN, LOGIN and EXTERNAL.</summary>
internal sealed class Authenticate : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseAuthenticate(command.GetReader(), out var mechanism, out var initial))
        {
            session.BadArguments(command, "AUTHENTICATE needs a mechanism");
            return;
        }

        if (!Authenticator.MayAuthenticate(session.Connection))
        {
            session.No(command, "Use STARTTLS first", "PRIVACYREQUIRED");
            return;
        }

        if (!ImapCapabilities.Mechanisms(session).Contains(mechanism))
        {
            session.No(command, "Unsupported mechanism", "CANNOT");
            return;
        }

        AuthenticationResult result;
        switch (mechanism)
        {
            case "PLAIN":
                {
                    var response = initial ?? await ChallengeAsync(session, string.Empty, cancellationToken);
                    if (response is null || response == "*")
                    {
                        session.BadArguments(command, "Authentication cancelled");
                        return;
                    }

                    if (!SaslPlain.TryDecode(response, out var credentials))
                    {
                        session.BadArguments(command, "Invalid PLAIN response");
                        return;
                    }

                    result = await session.Authenticator.AuthenticateAsync(session.Connection, credentials.AuthenticationId, credentials.Password,
                        credentials.AuthorizationId, cancellationToken);
                    break;
                }

            case "LOGIN":
                {
                    var userLine = initial ?? await ChallengeAsync(session, Convert.ToBase64String("Username:"u8), cancellationToken);
                    if (userLine is null || userLine == "*" || !SaslPlain.TryDecodeText(userLine, out var user))
                    {
                        session.BadArguments(command, "Authentication cancelled");
                        return;
                    }

                    var passwordLine = await ChallengeAsync(session, Convert.ToBase64String("Password:"u8), cancellationToken);
                    if (passwordLine is null || passwordLine == "*" || !SaslPlain.TryDecodeText(passwordLine, out var password))
                    {
                        session.BadArguments(command, "Authentication cancelled");
                        return;
                    }

                    result = await session.Authenticator.AuthenticateAsync(session.Connection, user, password, null, cancellationToken);
                    break;
                }

            default:
                {
                    // EXTERNAL: the optional response is the authorization identity.
                    var response = initial ?? await ChallengeAsync(session, string.Empty, cancellationToken);
                    if (response is null || response == "*" || !SaslPlain.TryDecodeBase64(response, out var authzid))
                    {
                        session.BadArguments(command, "Authentication cancelled");
                        return;
                    }

                    result = await session.Authenticator.AuthenticateExternalAsync(session.Connection, Encoding.UTF8.GetString(authzid), cancellationToken);
                    break;
                }
        }

        await CompleteAsync(session, command, result, cancellationToken);
    }

    private static async Task<string?> ChallengeAsync(ImapSession session, string challenge, CancellationToken cancellationToken)
    {
        session.Writer.Continuation(challenge);
        await session.FlushAsync(cancellationToken);
        return await session.ReadLineAsync(cancellationToken);
    }

    /// <summary>The shared ending of LOGIN and AUTHENTICATE.</summary>
    public static async Task CompleteAsync(ImapSession session, ImapCommand command, AuthenticationResult result, CancellationToken cancellationToken)
    {
        switch (result.Outcome)
        {
            case AuthenticationOutcome.Success:
                await session.LoginAsync(result.Account!, cancellationToken);

                // RFC 3501 §7.1: the capabilities change after login, so they ride along in the OK.
                session.Writer.Tagged(command.Tag, ImapStatus.Ok, "CAPABILITY " + string.Join(' ', ImapCapabilities.For(session)), "Logged in");
                break;
            case AuthenticationOutcome.Throttled:
                session.No(command, "Too many failures, try again later", "UNAVAILABLE");
                break;
            case AuthenticationOutcome.NeedsEncryption:
                session.No(command, "A client certificate is needed", "PRIVACYREQUIRED");
                break;
            default:
                session.No(command, "Authentication failed", "AUTHENTICATIONFAILED");

                // The per-connection budget; the shared throttle slows down guessing across connections.
                if (++session.AuthenticationFailures >= Math.Max(1, session.Config.Limits.MaxAuthFailures))
                {
                    session.Writer.Untagged(ImapStatus.Bye, null, "Too many authentication failures");
                    session.EnterLogout();
                }

                break;
        }
    }
}
