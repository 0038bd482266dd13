using System.Globalization;
using Postern.Store;

namespace Postern.Server.Pop3;

/// <summary>A POP3 virtual server's limits, read once per session from its configuration.</summary>
internal sealed record Pop3Options
{
    public const int DefaultMaxCommandLength = 255;

    /// <summary>Settings key: longest SASL response line (RFC 5034 §4 puts no limit on continuation lines).</summary>
    public const string MaxSaslLineLengthSetting = "pop3.max-sasl-line-length";

    /// <summary>Settings key: bytes read from the store and flushed to the client per RETR/TOP chunk.</summary>
    public const string ChunkSizeSetting = "pop3.retr-chunk-size";

    public int MaxCommandLength { get; init; } = DefaultMaxCommandLength;

    public int MaxSaslLineLength { get; init; } = 8192;

    public TimeSpan AuthorizationIdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan TransactionIdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public int MaxBadCommands { get; init; } = 20;

    public int MaxAuthFailures { get; init; } = 3;

    public int ChunkSize { get; init; } = 16384;

    public IReadOnlyList<string> Mechanisms { get; init; } = ["PLAIN", "LOGIN"];

    public static Pop3Options From(VirtualServer server) => new()
    {
        MaxCommandLength = Math.Max(16, server.Limits.MaxLineLength),
        MaxSaslLineLength = Math.Max(Math.Max(16, server.Limits.MaxLineLength), Setting(server, MaxSaslLineLengthSetting, 8192)),
        AuthorizationIdleTimeout = TimeSpan.FromSeconds(Math.Max(1, server.Limits.IdleTimeoutSeconds)),
        TransactionIdleTimeout = TimeSpan.FromSeconds(Math.Max(1, server.Limits.AuthenticatedIdleTimeoutSeconds)),
        MaxBadCommands = Math.Max(1, server.Limits.MaxBadCommands),
        MaxAuthFailures = Math.Max(1, server.Limits.MaxAuthFailures),
        ChunkSize = Math.Clamp(Setting(server, ChunkSizeSetting, 16384), 512, 1 << 20),
        Mechanisms = [.. server.AuthenticationMethods.Select(m => m.ToUpperInvariant()).Where(m => m is "PLAIN" or "LOGIN" or "EXTERNAL").Distinct()],
    };

    private static int Setting(VirtualServer server, string key, int fallback) =>
        server.Settings.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
