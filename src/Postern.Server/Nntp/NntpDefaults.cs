using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>The NNTP virtual servers Postern creates at first start.</summary>
public static class NntpDefaults
{
    public const string DefaultName = "Default NNTP Virtual Server";
    public const string SecureName = "Secure NNTP Virtual Server";

    /// <summary>Setting: the Path identity (RFC 5537 §3.2) this server adds; defaults to the host name.</summary>
    public const string PathIdentitySetting = "nntp.path-identity";

    /// <summary>Setting: "true" lets connections from configured news peers' addresses feed (IHAVE, streaming) and read without AUTHINFO.</summary>
    public const string TrustPeerAddressesSetting = "nntp.trust-peer-addresses";

    /// <summary>Setting: "false" turns off RFC 4644 streaming (MODE STREAM, CHECK, TAKETHIS); peers then feed with IHAVE.</summary>
    public const string StreamingSetting = "nntp.streaming";

    /// <summary>Setting: the message of the day for LIST MOTD (RFC 6048 §2.5); "\n" starts a new line.</summary>
    public const string MotdSetting = "nntp.motd";

    /// <summary>
    /// Setting: how many TAKETHIS articles a streaming peer may have being stored at once (they are answered in order);
    /// 1 stores each before the next is read.
    /// </summary>
    public const string MaxTakeThisInFlightSetting = "nntp.max-takethis-in-flight";

    /// <summary>Setting: the most octets of TAKETHIS articles held in memory while they are stored.</summary>
    public const string MaxTakeThisInFlightBytesSetting = "nntp.max-takethis-in-flight-bytes";

    /// <summary>
    /// Setting: how many hours ahead of this server's clock an article's Date may be before POST (441), IHAVE (437) and
    /// TAKETHIS (439) refuse it as posted in the future; INN allows 24.
    /// </summary>
    public const string FutureDateAllowanceHoursSetting = "nntp.future-date-allowance-hours";

    public static TimeSpan FutureDateAllowance(VirtualServer config) => TimeSpan.FromHours(IntSetting(config, FutureDateAllowanceHoursSetting, 24));

    public static int MaxTakeThisInFlight(VirtualServer config) => Math.Max(1, IntSetting(config, MaxTakeThisInFlightSetting, 64));

    public static long MaxTakeThisInFlightBytes(VirtualServer config) =>
        config.Settings.TryGetValue(MaxTakeThisInFlightBytesSetting, out var text)
            && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : 8L * 1024 * 1024;

    private static int IntSetting(VirtualServer config, string key, int fallback) =>
        config.Settings.TryGetValue(key, out var text)
            && int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : fallback;

    /// <summary>RFC 3977 §3.1: command lines are at most 512 octets including CRLF.</summary>
    public const int CommandLineLength = 512;

    /// <summary>The default server, 119 (STARTTLS, RFC 4642) and 563 (implicit TLS).</summary>
    public static IReadOnlyList<VirtualServer> Create(string serverName) =>
    [
        new VirtualServer
        {
            Name = DefaultName,
            Protocol = ServiceProtocol.Nntp,
            ServerName = serverName,
            Bindings = [new Binding("127.0.0.1", 119, BindingMode.StartTls), new Binding("127.0.0.1", 563, BindingMode.ImplicitTls)],
            Limits = new ConnectionLimits { MaxLineLength = CommandLineLength - 2, MaxMessageSize = 10L * 1024 * 1024 },
            AuthenticationMethods = ["PLAIN", "EXTERNAL"],
        },
    ];

    /// <summary>
    /// A second virtual server for authenticated, encrypted use only (Exchange could not require a secure channel
    /// on NNTP; Postern can): AUTHINFO and POST before STARTTLS answer 483.
    /// </summary>
    public static VirtualServer CreateSecure(string serverName, string address, int port, BindingMode mode) => new()
    {
        Name = SecureName,
        Protocol = ServiceProtocol.Nntp,
        ServerName = serverName,
        Bindings = [new Binding(address, port, mode)],
        Security = new SecurityOptions { RequireSecureChannel = true, Require128BitEncryption = true },
        Limits = new ConnectionLimits { MaxLineLength = CommandLineLength - 2, MaxMessageSize = 10L * 1024 * 1024 },
        AuthenticationMethods = ["PLAIN", "EXTERNAL"],
        RequireAuthentication = true,
    };
}
