using System.Text;
using Postern.Protocols.Pop3;
using Postern.Protocols.Sasl;
using Postern.Server.Connections;

namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 5034 AUTH mechanism [initial-response]: PLAIN (RFC 4616), LOGIN, EXTERNAL (RFC 4422 Appendix A).</summary>
internal static class Pop3AuthHandler
{
    private static readonly byte[] s_usernameChallenge = "Username:"u8.ToArray();
    private static readonly byte[] s_passwordChallenge = "Password:"u8.ToArray();

    public static async Task<Pop3Flow> HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken)
    {
        var mechanisms = session.Mechanisms;
        if (command.Argument is not { } name)
        {
            // Not in RFC 5034, but clients (Outlook among them) ask "AUTH" for the list, as in the old draft.
            session.Ok("Methods supported");
            foreach (var mechanism in mechanisms)
            {
                Pop3ReplyWriter.WriteLine(session.Channel.Output, mechanism);
            }

            Pop3ReplyWriter.WriteEnd(session.Channel.Output);
            return Pop3Flow.Continue;
        }

        var upper = name.ToUpperInvariant();
        if (!mechanisms.Contains(upper))
        {
            session.Error(null, "Unsupported authentication mechanism");
            return Pop3Flow.Continue;
        }

        return upper switch
        {
            "PLAIN" => await PlainAsync(session, command.SecondArgument, cancellationToken).ConfigureAwait(false),
            "LOGIN" => await LoginAsync(session, command.SecondArgument, cancellationToken).ConfigureAwait(false),
            _ => await ExternalAsync(session, command.SecondArgument, cancellationToken).ConfigureAwait(false),
        };
    }

    private static async Task<Pop3Flow> PlainAsync(Pop3Session session, string? initialResponse, CancellationToken cancellationToken)
    {
        var response = initialResponse is null ? await ReadResponseAsync(session, [], cancellationToken).ConfigureAwait(false) : SaslStep.Of(initialResponse);
        if (response.Flow is { } flow)
        {
            return flow;
        }

        if (!SaslPlain.TryDecode(response.Text, out var credentials))
        {
            return session.AuthenticationFailed("Invalid SASL PLAIN response");
        }

        var authzid = credentials.AuthorizationId.Length == 0 ? null : credentials.AuthorizationId;
        var result = await session.Authenticator.AuthenticateAsync(session.Connection, credentials.AuthenticationId, credentials.Password, authzid, cancellationToken).ConfigureAwait(false);
        return await session.CompleteLoginAsync(result, "PLAIN", cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Pop3Flow> LoginAsync(Pop3Session session, string? initialResponse, CancellationToken cancellationToken)
    {
        var first = initialResponse is null ? await ReadResponseAsync(session, s_usernameChallenge, cancellationToken).ConfigureAwait(false) : SaslStep.Of(initialResponse);
        if (first.Flow is { } flow)
        {
            return flow;
        }

        if (!SaslPlain.TryDecodeText(first.Text, out var user) || user.Length == 0)
        {
            return session.AuthenticationFailed("Invalid SASL LOGIN response");
        }

        var second = await ReadResponseAsync(session, s_passwordChallenge, cancellationToken).ConfigureAwait(false);
        if (second.Flow is { } secondFlow)
        {
            return secondFlow;
        }

        if (!SaslPlain.TryDecodeText(second.Text, out var password))
        {
            return session.AuthenticationFailed("Invalid SASL LOGIN response");
        }

        var result = await session.Authenticator.AuthenticateAsync(session.Connection, user, password, null, cancellationToken).ConfigureAwait(false);
        return await session.CompleteLoginAsync(result, "LOGIN", cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Pop3Flow> ExternalAsync(Pop3Session session, string? initialResponse, CancellationToken cancellationToken)
    {
        var response = initialResponse is null ? await ReadResponseAsync(session, [], cancellationToken).ConfigureAwait(false) : SaslStep.Of(initialResponse);
        if (response.Flow is { } flow)
        {
            return flow;
        }

        // RFC 4422 Appendix A: the response is the authorization identity, empty to act as the certificate's own identity.
        if (!SaslPlain.TryDecodeText(response.Text, out var authzid))
        {
            return session.AuthenticationFailed("Invalid SASL EXTERNAL response");
        }

        var result = await session.Authenticator.AuthenticateExternalAsync(session.Connection, authzid.Length == 0 ? null : authzid, cancellationToken).ConfigureAwait(false);
        return await session.CompleteLoginAsync(result, "EXTERNAL", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a challenge and reads the client's response line; "*" cancels (RFC 5034 §4).</summary>
    private static async Task<SaslStep> ReadResponseAsync(Pop3Session session, byte[] challenge, CancellationToken cancellationToken)
    {
        Pop3ReplyWriter.WriteContinuation(session.Channel.Output, challenge);
        var line = await session.Channel.ReadLineAsync(session.Options.MaxSaslLineLength, session.IdleTimeout, cancellationToken).ConfigureAwait(false);
        switch (line.Kind)
        {
            case LineResultKind.Line:
                var text = Encoding.ASCII.GetString(line.Bytes).Trim();
                if (text == "*")
                {
                    session.Error(null, "Authentication cancelled");
                    return new SaslStep("", Pop3Flow.Continue);
                }

                return SaslStep.Of(text);
            case LineResultKind.TooLong:
                return new SaslStep("", session.BadCommand("SASL response too long"));
            case LineResultKind.Timeout:
                session.Error(null, "Autologout; idle for too long");
                return new SaslStep("", Pop3Flow.Close);
            default:
                return new SaslStep("", Pop3Flow.Close);
        }
    }

    /// <summary>A client response, or (Flow set) the end of the exchange with the reply already written.</summary>
    private readonly record struct SaslStep(string Text, Pop3Flow? Flow)
    {
        public static SaslStep Of(string text) => new(text, null);
    }
}
