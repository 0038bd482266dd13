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

    public static int MaxKeywords(VirtualServer config) =>
        config.Settings.TryGetValue(MaxKeywordsSetting, out var text) && int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var max)
            ? max
            : DefaultMaxKeywords;

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
