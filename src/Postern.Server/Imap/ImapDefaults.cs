using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>The IMAP4 virtual server Postern creates at first start.</summary>
public static class ImapDefaults
{
    public const string VirtualServerName = "Default IMAP4 Virtual Server";

    /// <summary>
    /// Setting: how many distinct keywords a mailbox may hold. Each is listed in every SELECT's FLAGS, so without a bound
    /// a client could grow that response without end (Cyrus allows 128 per mailbox).
    /// </summary>
    public const string MaxKeywordsSetting = "imap.max-keywords";

    public const int DefaultMaxKeywords = 256;

    /// <summary>
    /// Setting: the longest keyword a client may create, in octets (Dovecot's mail_max_keyword_length is 50). Every keyword
    /// goes into FLAGS responses and into each message carrying it.
    /// </summary>
    public const string MaxKeywordLengthSetting = "imap.max-keyword-length";

    /// <summary>Setting: the longest mailbox name, in UTF-8 octets (Cyrus allows 490, Dovecot 4096).</summary>
    public const string MaxMailboxNameLengthSetting = "imap.max-mailbox-name-length";

    /// <summary>Setting: how many levels a mailbox name may have; CREATE makes every missing parent.</summary>
    public const string MaxMailboxDepthSetting = "imap.max-mailbox-depth";

    /// <summary>Setting: how many mailboxes one account may have.</summary>
    public const string MaxMailboxesSetting = "imap.max-mailboxes";

    /// <summary>
    /// Setting: how many octets of stored mail one CATENATE may read for its URLs, as a multiple of the largest message. A
    /// URL reads its whole message, so many URLs of large messages would otherwise read far more than they append.
    /// </summary>
    public const string CatenateReadFactorSetting = "imap.catenate-read-factor";

    public static int CatenateReadFactor(VirtualServer config) => IntSetting(config, CatenateReadFactorSetting, 4);

    public static int MaxKeywords(VirtualServer config) => IntSetting(config, MaxKeywordsSetting, DefaultMaxKeywords);

    public static int MaxKeywordLength(VirtualServer config) => IntSetting(config, MaxKeywordLengthSetting, 128);

    /// <summary>Whether one of <paramref name="keywords"/> is longer than the virtual server allows.</summary>
    public static bool HasOverlongKeyword(VirtualServer config, IEnumerable<string> keywords)
    {
        var limit = MaxKeywordLength(config);
        return keywords.Any(k => k.Length > limit);
    }

    public static int MaxMailboxNameLength(VirtualServer config) => IntSetting(config, MaxMailboxNameLengthSetting, 1024);

    public static int MaxMailboxDepth(VirtualServer config) => IntSetting(config, MaxMailboxDepthSetting, 32);

    public static int MaxMailboxes(VirtualServer config) => IntSetting(config, MaxMailboxesSetting, 10_000);

    /// <summary>Why <paramref name="name"/> may not name a mailbox (a control character, or past the virtual server's limits), or null.</summary>
    public static string? MailboxNameRefusal(VirtualServer config, string name, char delimiter)
    {
        // RFC 9051 §5.1 and RFC 6855 §3: no control characters (C0, DEL, C1) and no line or paragraph separator, in
        // whatever form the name arrived (modified UTF-7 can carry them too).
        if (name.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029'))
        {
            return "Mailbox name contains a control character";
        }

        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxMailboxNameLength(config))
        {
            return "Mailbox name too long";
        }

        return name.Count(c => c == delimiter) + 1 > MaxMailboxDepth(config) ? "Mailbox hierarchy too deep" : null;
    }

    private static int IntSetting(VirtualServer config, string key, int fallback) =>
        config.Settings.TryGetValue(key, out var text)
            && int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : fallback;

    /// <summary>143 with STARTTLS (RFC 3501 §6.2.1) and 993 with implicit TLS (RFC 8314).</summary>
    public static IReadOnlyList<VirtualServer> Create(string serverName) =>
    [
        new VirtualServer
        {
            Name = VirtualServerName,
            Protocol = ServiceProtocol.Imap,
            ServerName = serverName,
            Bindings = [new Binding("127.0.0.1", 143, BindingMode.StartTls), new Binding("127.0.0.1", 993, BindingMode.ImplicitTls)],
            AuthenticationMethods = ["PLAIN", "LOGIN", "EXTERNAL"],
        },
    ];
}
