using System.Globalization;
using Postern.Server.Imap;
using Postern.Server.Nntp;
using Postern.Server.Pop3;
using Postern.Server.Smtp;
using Postern.Store;

namespace Postern.Server.Connections;

/// <summary>
/// Every protocol setting a virtual server may carry (<see cref="VirtualServer.Settings"/>), with the values each takes.
/// The sessions read them leniently (a bad value falls back to the default), so the admin API refuses what they would
/// ignore: a typing error must not pass as a change that was made.
/// </summary>
public static class VirtualServerSettings
{
    private sealed record Rule(ServiceProtocol Protocol, string Expected, Func<string, bool> Accepts);

    private static readonly Dictionary<string, Rule> Rules = new(StringComparer.Ordinal)
    {
        // RFC 5321 §4.5.3.1: the minimum maximums a server must accept.
        [SmtpSettings.MaxCommandLineKey] = Integer(ServiceProtocol.Smtp, 512, 65_536),
        [SmtpSettings.MaxTextLineKey] = Integer(ServiceProtocol.Smtp, 1000, 1 << 20),
        [SmtpSettings.MaxAuthLineKey] = Integer(ServiceProtocol.Smtp, 512, 1 << 20),
        [SmtpSettings.DataTimeoutKey] = Integer(ServiceProtocol.Smtp, 1, 86_400),
        [SmtpSettings.MaxHopsKey] = Integer(ServiceProtocol.Smtp, 1, 1000),
        [SmtpSettings.AllowAnySenderKey] = Boolean(ServiceProtocol.Smtp),
        [SmtpSettings.DkimMaxSignaturesKey] = Integer(ServiceProtocol.Smtp, 0, 50),
        [SmtpSettings.MinFreeMegabytesKey] = Integer(ServiceProtocol.Smtp, 0, long.MaxValue >> 20),
        [ImapDefaults.MaxKeywordsSetting] = Integer(ServiceProtocol.Imap, 0, 65_535),
        [ImapDefaults.MaxKeywordLengthSetting] = Integer(ServiceProtocol.Imap, 1, 1024),
        [ImapDefaults.MaxMailboxNameLengthSetting] = Integer(ServiceProtocol.Imap, 1, 65_536),
        [ImapDefaults.MaxMailboxDepthSetting] = Integer(ServiceProtocol.Imap, 1, 1024),
        [ImapDefaults.MaxMailboxesSetting] = Integer(ServiceProtocol.Imap, 1, 10_000_000),
        [ImapDefaults.CatenateReadFactorSetting] = Integer(ServiceProtocol.Imap, 1, 1000),
        [Pop3Options.MaxSaslLineLengthSetting] = Integer(ServiceProtocol.Pop3, 16, 1 << 20),
        [Pop3Options.ChunkSizeSetting] = Integer(ServiceProtocol.Pop3, 512, 1 << 20),
        [NntpDefaults.PathIdentitySetting] = new(ServiceProtocol.Nntp, "a path identity (letters, digits, '-', '.', ':', '_'; RFC 5536 §3.1.5)", IsPathIdentity),
        [NntpDefaults.TrustPeerAddressesSetting] = Boolean(ServiceProtocol.Nntp),
        [NntpDefaults.StreamingSetting] = Boolean(ServiceProtocol.Nntp),
        [NntpDefaults.MotdSetting] = new(ServiceProtocol.Nntp, "text of at most 4096 characters, without control characters (\\n starts a new line)",
            text => text.Length <= 4096 && !text.Any(char.IsControl)),
        [NntpDefaults.MaxTakeThisInFlightSetting] = Integer(ServiceProtocol.Nntp, 1, 10_000),
        [NntpDefaults.MaxTakeThisInFlightBytesSetting] = Integer(ServiceProtocol.Nntp, 1024, 1L << 34),
        [NntpDefaults.FutureDateAllowanceHoursSetting] = Integer(ServiceProtocol.Nntp, 0, 87_600),
    };

    /// <summary>Why <paramref name="key"/>=<paramref name="value"/> cannot be set on a virtual server of <paramref name="protocol"/>, or null.</summary>
    public static string? Refusal(ServiceProtocol protocol, string key, string value)
    {
        if (!Rules.TryGetValue(key, out var rule) || rule.Protocol != protocol)
        {
            var known = Rules.Where(r => r.Value.Protocol == protocol).Select(r => r.Key).Order(StringComparer.Ordinal).ToList();
            return $"unknown setting '{key}' for {Article(protocol)} virtual server" + (known.Count == 0 ? " (it has none)" : $" (settings: {string.Join(", ", known)})");
        }

        return rule.Accepts(value) ? null : $"setting {key} takes {rule.Expected}, not '{value}'";
    }

    /// <summary>"an IMAP4", "a POP3": the protocol as the article names its virtual servers.</summary>
    public static string Article(ServiceProtocol protocol) => protocol switch
    {
        ServiceProtocol.Smtp => "an SMTP",
        ServiceProtocol.Imap => "an IMAP4",
        ServiceProtocol.Pop3 => "a POP3",
        ServiceProtocol.Nntp => "an NNTP",
        ServiceProtocol.Http => "an HTTP",
        _ => "a " + protocol,
    };

    private static Rule Integer(ServiceProtocol protocol, long minimum, long maximum) =>
        new(protocol, $"a whole number from {minimum} to {maximum}",
            text => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum);

    private static Rule Boolean(ServiceProtocol protocol) =>
        new(protocol, "true or false", text => text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase));

    private static bool IsPathIdentity(string text) =>
        text.Length is > 0 and <= 255 && char.IsAsciiLetterOrDigit(text[0])
        && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or ':' or '_');
}
