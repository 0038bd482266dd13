using System.Globalization;
using System.Net;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>SMTP knobs kept in <see cref="VirtualServer.Settings"/> (they have no column of their own), with their defaults.</summary>
internal sealed class SmtpSettings
{
    /// <summary>RFC 5321 §4.5.3.1.4: 512 octets per command line, CRLF included.</summary>
    public const string MaxCommandLineKey = "smtp.max-command-line";

    /// <summary>RFC 5321 §4.5.3.1.6: 1000 octets per text line, CRLF included.</summary>
    public const string MaxTextLineKey = "smtp.max-text-line";

    /// <summary>RFC 4954 §4: AUTH lines may be up to 12288 octets.</summary>
    public const string MaxAuthLineKey = "smtp.max-auth-line";

    /// <summary>RFC 5321 §4.5.3.2.6: the server waits at least 10 minutes for the terminating dot; per read here.</summary>
    public const string DataTimeoutKey = "smtp.data-timeout-seconds";

    /// <summary>RFC 5321 §6.3: a message that would carry more Received fields than this is a loop, refused (Postfix: hopcount_limit).</summary>
    public const string MaxHopsKey = "smtp.max-hops";

    /// <summary>When "true", an authenticated client may use any MAIL FROM address.</summary>
    public const string AllowAnySenderKey = "smtp.allow-any-sender";

    /// <summary>How many DKIM signatures of a message from another server are checked (0: none, no Authentication-Results).</summary>
    public const string DkimMaxSignaturesKey = "smtp.dkim-max-signatures";

    /// <summary>
    /// Free space the data folder's disk must keep beyond a message (Postfix: queue_minfree). MAIL is refused with 452
    /// 4.3.1 when less is free, or when less than 1.5 times the largest message is free, so the disk never fills up
    /// with mail and there is always room to read, flag and delete it.
    /// </summary>
    public const string MinFreeMegabytesKey = "smtp.min-free-mb";

    public SmtpSettings(VirtualServer config)
    {
        var s = config.Settings;
        MaxCommandLine = Int(s, MaxCommandLineKey, 512);
        MaxTextLine = Int(s, MaxTextLineKey, 1000);
        MaxAuthLine = Math.Max(Int(s, MaxAuthLineKey, 12288), MaxCommandLine);
        DataTimeout = TimeSpan.FromSeconds(Int(s, DataTimeoutKey, 600));
        MaxHops = Int(s, MaxHopsKey, 50);
        AllowAnySender = s.TryGetValue(AllowAnySenderKey, out var any) && bool.TryParse(any, out var b) && b;
        DkimMaxSignatures = s.TryGetValue(DkimMaxSignaturesKey, out var dkim) && int.TryParse(dkim, NumberStyles.Integer, CultureInfo.InvariantCulture, out var most) && most >= 0
            ? Math.Min(most, 50)
            : DkimVerification.DefaultMaxSignatures;
        MinFreeBytes = s.TryGetValue(MinFreeMegabytesKey, out var free) && long.TryParse(free, NumberStyles.None, CultureInfo.InvariantCulture, out var megabytes) && megabytes <= long.MaxValue >> 20
            ? megabytes << 20
            : 0;
        CommandTimeout = TimeSpan.FromSeconds(Math.Max(1, config.Limits.IdleTimeoutSeconds));
        var networks = new List<IPNetwork>();
        foreach (var entry in config.RelayAddresses)
        {
            if (IPNetwork.TryParse(entry.Trim(), out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry.Trim(), out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
        }

        RelayNetworks = networks;
    }

    public int MaxCommandLine { get; }

    public int MaxTextLine { get; }

    public int MaxAuthLine { get; }

    public TimeSpan DataTimeout { get; }

    public int MaxHops { get; }

    public TimeSpan CommandTimeout { get; }

    public bool AllowAnySender { get; }

    public int DkimMaxSignatures { get; }

    public long MinFreeBytes { get; }

    public IReadOnlyList<IPNetwork> RelayNetworks { get; }

    public bool MayRelay(IPAddress client)
    {
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        foreach (var network in RelayNetworks)
        {
            if (network.Contains(client))
            {
                return true;
            }
        }

        return false;
    }

    private static int Int(IReadOnlyDictionary<string, string> settings, string key, int fallback) =>
        settings.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
