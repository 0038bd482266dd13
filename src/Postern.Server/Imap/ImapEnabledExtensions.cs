namespace Postern.Server.Imap;

/// <summary>
/// What ENABLE (RFC 5161) and CONDSTORE-enabling commands switched on for one session, and what that changes in the
/// responses. IMAP4rev1 and IMAP4rev2 share a port: a session is rev1 until the client sends ENABLE IMAP4rev2 (RFC 9051 §6.3.1).
/// </summary>
internal sealed class ImapEnabledExtensions
{
    /// <summary>RFC 7162: CONDSTORE was enabled (ENABLE, or a CONDSTORE-enabling command).</summary>
    public bool CondStore { get; set; }

    public bool QResync { get; set; }

    /// <summary>RFC 6855 UTF8=ACCEPT: mailbox names and strings are UTF-8.</summary>
    public bool Utf8 { get; set; }

    /// <summary>RFC 9051: the session follows IMAP4rev2.</summary>
    public bool Rev2 { get; private set; }

    /// <summary>RFC 9051 §5.1: rev2 mailbox names are UTF-8, never modified UTF-7.</summary>
    public bool Utf8MailboxNames => Utf8 || Rev2;

    /// <summary>RFC 9051 §7.3.4: rev2 has no SEARCH response; a plain SEARCH is answered with ESEARCH.</summary>
    public bool SearchAnswersEsearch => Rev2;

    /// <summary>RFC 9051 Appendix E: rev2 dropped \Recent, the RECENT response and SELECT's [UNSEEN n].</summary>
    public bool ReportsRecentAndUnseen => !Rev2;

    /// <summary>RFC 9051 §6.3.2 (always) and RFC 7162 §3.2.11 (with QRESYNC): [CLOSED] when SELECT replaces a mailbox.</summary>
    public bool SendsClosed => Rev2 || QResync;

    /// <summary>
    /// Turns on what the server knows among <paramref name="names"/> (upper-cased atoms) and returns them in the spelling
    /// of the ENABLED response; unknown names are ignored (RFC 5161 §3.1).
    /// </summary>
    public IReadOnlyList<string> Enable(IEnumerable<string> names)
    {
        var enabled = new List<string>();
        foreach (var name in names.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            switch (name.ToUpperInvariant())
            {
                case "CONDSTORE":
                    CondStore = true;
                    enabled.Add("CONDSTORE");
                    break;
                case "QRESYNC":
                    // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                    QResync = true;
                    CondStore = true;
                    enabled.Add("QRESYNC");
                    break;
                case "UTF8=ACCEPT":
                    Utf8 = true;
                    enabled.Add("UTF8=ACCEPT");
                    break;
                case "IMAP4REV2":
                    Rev2 = true;
                    enabled.Add("IMAP4rev2");
                    break;
            }
        }

        return enabled;
    }
}
