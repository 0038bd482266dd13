using Postern.Protocols.Smtp;

namespace Postern.Server.Smtp;

/// <summary>Where a session is in the RFC 5321 §4.1.4 command sequence.</summary>
internal enum SmtpState
{
    /// <summary>Greeting sent; no HELO/EHLO yet (again after STARTTLS, RFC 3207 §4.2).</summary>
    Connected = 0,

    /// <summary>HELO/EHLO done, no transaction.</summary>
    Ready = 1,

    /// <summary>MAIL accepted, no recipient yet.</summary>
    Mail = 2,

    /// <summary>At least one RCPT accepted.</summary>
    Recipients = 3,

    /// <summary>BDAT chunks are being received (RFC 3030); only BDAT, RSET, NOOP and QUIT make sense.</summary>
    Chunking = 4,
}

/// <summary>The facts besides the state that decide whether a command may run.</summary>
/// <param name="MayAuthenticate">Whether credentials may cross this connection now (TLS, or plaintext authentication allowed).</param>
internal readonly record struct SmtpSessionFacts(bool Secure, bool Authenticated, bool CanStartTls, bool RequireSecureChannel, bool RequireAuthentication, bool Extended, bool MayAuthenticate);

/// <summary>A reply line (or lines) with its code; written by the session.</summary>
internal readonly record struct SmtpReply(int Code, string Text)
{
    public override string ToString() => $"{Code} {Text}";
}

/// <summary>
/// Command × state × security → allowed, or the reply that refuses it. Pure, so the whole table can be tested.
/// </summary>
internal static class SmtpStateTable
{
    public static readonly SmtpReply NeedHelo = new(503, "5.5.1 Error: send HELO/EHLO first");
    public static readonly SmtpReply NeedStartTls = new(530, "5.7.0 Must issue a STARTTLS command first");
    public static readonly SmtpReply NeedAuth = new(530, "5.7.0 Authentication required");

    /// <summary>Null when the command may run now.</summary>
    public static SmtpReply? Check(SmtpVerb verb, SmtpState state, SmtpSessionFacts facts)
    {
        switch (verb)
        {
            case SmtpVerb.Helo:
            case SmtpVerb.Ehlo:
            case SmtpVerb.Rset:
            case SmtpVerb.Noop:
            case SmtpVerb.Quit:
            case SmtpVerb.Help:
            case SmtpVerb.Vrfy:
            case SmtpVerb.Expn:
                return null;
            case SmtpVerb.StartTls:
                if (facts.Secure)
                {
                    return new SmtpReply(503, "5.5.1 Error: TLS already active");
                }

                if (!facts.CanStartTls)
                {
                    return new SmtpReply(454, "4.7.0 TLS not available");
                }

                if (state == SmtpState.Connected || !facts.Extended)
                {
                    return new SmtpReply(503, "5.5.1 Error: send EHLO first");
                }

                return state == SmtpState.Ready ? null : new SmtpReply(503, "5.5.1 Error: MAIL transaction in progress");
            case SmtpVerb.Auth:
                if (state == SmtpState.Connected || !facts.Extended)
                {
                    return new SmtpReply(503, "5.5.1 Error: send EHLO first");
                }

                if ((facts.RequireSecureChannel && !facts.Secure) || !facts.MayAuthenticate)
                {
                    // RFC 4954 §4 / Require secure channel / plaintext authentication off: no credentials in clear
                    // text, whether or not AUTH was advertised.
                    return NeedStartTls;
                }

                if (facts.Authenticated)
                {
                    return new SmtpReply(503, "5.5.1 Error: already authenticated");
                }

                return state == SmtpState.Ready ? null : new SmtpReply(503, "5.5.1 Error: MAIL transaction in progress");
            case SmtpVerb.Mail:
                if (state == SmtpState.Connected)
                {
                    return NeedHelo;
                }

                if (facts.RequireSecureChannel && !facts.Secure)
                {
                    return NeedStartTls;
                }

                if (facts.RequireAuthentication && !facts.Authenticated)
                {
                    return NeedAuth;
                }

                return state == SmtpState.Ready ? null : new SmtpReply(503, "5.5.1 Error: nested MAIL command");
            case SmtpVerb.Rcpt:
                return state switch
                {
                    SmtpState.Mail or SmtpState.Recipients => null,
                    SmtpState.Chunking => new SmtpReply(503, "5.5.1 Error: BDAT in progress"),
                    _ => new SmtpReply(503, "5.5.1 Error: need MAIL command"),
                };
            case SmtpVerb.Data:
                return state switch
                {
                    SmtpState.Recipients => null,
                    SmtpState.Mail => new SmtpReply(554, "5.5.1 Error: no valid recipients"),
                    SmtpState.Chunking => new SmtpReply(503, "5.5.1 Error: BDAT in progress"),
                    _ => new SmtpReply(503, "5.5.1 Error: need MAIL command"),
                };
            case SmtpVerb.Bdat:
                // RFC 3030 §2: CHUNKING is an extension, offered only in the EHLO reply.
                if (!facts.Extended)
                {
                    return new SmtpReply(503, "5.5.1 Error: send EHLO first");
                }

                return state switch
                {
                    SmtpState.Recipients or SmtpState.Chunking => null,
                    SmtpState.Mail => new SmtpReply(554, "5.5.1 Error: no valid recipients"),
                    _ => new SmtpReply(503, "5.5.1 Error: need MAIL command"),
                };
            default:
                return new SmtpReply(500, "5.5.2 Error: command not recognized");
        }
    }
}
