using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>Mailbox names on the wire and in the store.</summary>
public static class ImapMailboxName
{
    public const string Inbox = "INBOX";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Turns a mailbox argument into the stored name. RFC 3501 §5.1: "INBOX" in any case is INBOX. Without UTF8=ACCEPT
    /// (RFC 6855) or IMAP4rev2 (RFC 9051 §5.1) a name is modified UTF-7 and must decode, and an 8-bit one is no valid name
    /// (RFC 3501 §5.1.3, §9: a quoted string is 7-bit): either is marked <see cref="Undecodable"/>, so it names no mailbox
    /// (NO, not BAD; Dovecot: "Mailbox name is not valid mUTF-7"). With UTF-8 enabled the name is UTF-8 as is ("&amp;"
    /// means itself) and must be valid UTF-8. The empty name is a valid astring that names no mailbox: it is returned
    /// empty, for the command to refuse with NO.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> wire, bool utf8Enabled, out string name)
    {
        name = string.Empty;
        if (wire.IsEmpty)
        {
            return true;
        }

        if (wire.IndexOfAny((byte)0, (byte)'\r', (byte)'\n') >= 0)
        {
            return false;
        }

        if (!utf8Enabled && !Ascii.IsValid(wire))
        {
            name = Undecodable + Encoding.Latin1.GetString(wire);
            return true;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(wire);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        if (string.Equals(text, Inbox, StringComparison.OrdinalIgnoreCase))
        {
            name = Inbox;
            return true;
        }

        name = utf8Enabled ? text : DecodeModifiedUtf7(text);
        return true;
    }

    /// <summary>
    /// Marks a name that is a valid astring but not valid modified UTF-7 (RFC 3501 §5.1.3). Such a name is not a syntax
    /// error: it names no mailbox (SELECT answers NO, LIST matches nothing) and cannot be created. NUL never occurs in a
    /// real name, so a name that starts with it can never match one.
    /// </summary>
    public const char Undecodable = '\0';

    /// <summary>True for a name that is not valid modified UTF-7 and so can never name a mailbox.</summary>
    public static bool IsUndecodable(string name) => name.Length > 0 && name[0] == Undecodable;

    /// <summary>A 7-bit name decoded from modified UTF-7, or marked <see cref="Undecodable"/>.</summary>
    public static string DecodeModifiedUtf7(string text) => ImapModifiedUtf7.TryDecode(text, out var name) ? name : Undecodable + text;

    /// <summary>The wire form of a stored name for a client that has (or has not) enabled UTF8=ACCEPT.</summary>
    public static string Encode(string name, bool utf8Enabled) => utf8Enabled ? name : ImapModifiedUtf7.Encode(name);

    /// <summary>Names under INBOX/ keep INBOX upper-cased so "inbox/x" and "INBOX/x" are one mailbox.</summary>
    public static string Normalize(string name, char delimiter)
    {
        if (name.Length > Inbox.Length && name[Inbox.Length] == delimiter && name.StartsWith(Inbox, StringComparison.OrdinalIgnoreCase))
        {
            return Inbox + name[Inbox.Length..];
        }

        return name;
    }
}
