using Postern.Server.Connections;

namespace Postern.Server.Imap;

/// <summary>What the server advertises, which depends on TLS and login state (RFC 3501 §6.1.1, §6.2.1; RFC 9051 §6.1.1).</summary>
internal static class ImapCapabilities
{
    /// <summary>Extensions available once logged in.</summary>
    private static readonly string[] Extensions =
    [
        "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "CHILDREN", "SPECIAL-USE",
        "CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "ESEARCH", "SEARCHRES", "CONDSTORE", "QRESYNC", "QUOTA", "QUOTA=RES-STORAGE",
        "UTF8=ACCEPT", "MULTIAPPEND", "CATENATE", "REPLACE", "BINARY", "STATUS=SIZE", "COMPRESS=DEFLATE",
        "SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "WITHIN", "OBJECTID", "PREVIEW", "SAVEDATE",
        "ACL", "RIGHTS=texk",
    ];

    public static IEnumerable<string> For(ImapSession session) =>
        For(session.State, session.Connection.CanStartTls, Authenticator.MayAuthenticate(session.Connection), Mechanisms(session), session.Config.Limits.MaxMessageSize);

    public static IEnumerable<string> For(ImapState state, bool canStartTls, bool mayAuthenticate, IEnumerable<string> mechanisms, long appendLimit = 0)
    {
        // RFC 9051 §6.3.1, Appendix E: both revisions on one port; a client opts into rev2 with ENABLE IMAP4rev2.
        yield return "IMAP4rev1";
        yield return "IMAP4rev2";
        yield return "LITERAL+";
        yield return "SASL-IR";
        yield return "ID";
        yield return "ENABLE";
        if (state == ImapState.NotAuthenticated)
        {
            if (canStartTls)
            {
                yield return "STARTTLS";
            }

            if (!mayAuthenticate)
            {
                // RFC 3501 §6.2.3: LOGIN (and every AUTH= mechanism) refused on clear text.
                yield return "LOGINDISABLED";
                yield break;
            }

            foreach (var mechanism in mechanisms)
            {
                yield return "AUTH=" + mechanism;
            }

            yield break;
        }

        foreach (var extension in Extensions)
        {
            yield return extension;
        }

        // RFC 7889 §2: one limit for every mailbox, the virtual server's largest message.
        if (appendLimit > 0)
        {
            yield return "APPENDLIMIT=" + appendLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The SASL mechanisms this virtual server allows on this connection.</summary>
    public static IEnumerable<string> Mechanisms(ImapSession session)
    {
        foreach (var method in session.Config.AuthenticationMethods)
        {
            var name = method.ToUpperInvariant();
            if (name is "PLAIN" or "LOGIN")
            {
                yield return name;
            }
            else if (name == "EXTERNAL" && session.Connection.Tls?.ClientCertificate is not null && session.Context.ClientCertificateAccounts is not null)
            {
                yield return name;
            }
        }
    }
}
