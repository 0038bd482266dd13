using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using DnsClient;
using DnsClient.Protocol;

namespace Postern.Server.Smtp.Outbound;

public enum MtaStsMode
{
    None = 0,

    /// <summary>Failures are reported, mail is delivered as without a policy.</summary>
    Testing = 1,

    /// <summary>Only the policy's MX hosts, only over TLS with a valid certificate for the host.</summary>
    Enforce = 2,
}

/// <summary>A recipient domain's MTA-STS policy (RFC 8461 §3.2).</summary>
public sealed record MtaStsPolicy(string Id, MtaStsMode Mode, IReadOnlyList<string> MxPatterns, TimeSpan MaxAge)
{
    /// <summary>RFC 8461 §4.1: an MX host matches a pattern exactly, or "*.example.com" matches one more leftmost label.</summary>
    public bool Allows(string host)
    {
        host = host.TrimEnd('.');
        foreach (var pattern in MxPatterns)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                var suffix = pattern[1..];
                var dot = host.IndexOf('.', StringComparison.Ordinal);
                if (dot > 0 && host[dot..].Equals(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            else if (host.Equals(pattern, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses the policy file (RFC 8461 §3.2): "key: value" lines; null when it is not a valid STSv1 policy.</summary>
    public static MtaStsPolicy? Parse(string id, string text)
    {
        string? version = null;
        MtaStsMode? mode = null;
        long? maxAge = null;
        var mx = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "version":
                    version = value;
                    break;
                case "mode":
                    mode = value switch { "enforce" => MtaStsMode.Enforce, "testing" => MtaStsMode.Testing, "none" => MtaStsMode.None, _ => null };
                    break;
                case "max_age" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds):
                    maxAge = Math.Min(seconds, 31_557_600);
                    break;
                case "mx" when value.Length > 0:
                    mx.Add(value.TrimEnd('.'));
                    break;
            }
        }

        return version == "STSv1" && mode is { } m && maxAge is { } age && (mx.Count > 0 || m == MtaStsMode.None)
            ? new MtaStsPolicy(id, m, mx, TimeSpan.FromSeconds(age))
            : null;
    }
}

/// <summary>
/// MTA-STS for outbound delivery (RFC 8461): a recipient domain that publishes a policy in enforce mode gets mail only
/// through the MX hosts it names, only over TLS, and only when the host's certificate chains to a trusted root and names
/// the host, so an attacker who strips STARTTLS or fakes the MX answer gets nothing. Policies are discovered through the
/// node's resolver (TXT _mta-sts.domain), fetched over HTTPS from mta-sts.domain and kept until their max_age ends; a
/// domain whose policy cannot be fetched again keeps the one it had (§5.1).
/// </summary>
public sealed class MtaStsPolicies(ILookupClient dns, Func<CancellationToken, Task<IReadOnlyCollection<X509Certificate2>>>? trustedRoots = null, TimeProvider? time = null)
{
    private const int MaxPolicyBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, (MtaStsPolicy Policy, DateTimeOffset Expires)> _cache = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The HTTPS port of the policy host: 443 (RFC 8461 §3.3); another only in tests.</summary>
    internal int PolicyPort { get; init; } = 443;

    /// <summary>The policy in force for <paramref name="domain"/>, or null when it has none.</summary>
    public async Task<MtaStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var cached = _cache.TryGetValue(domain, out var entry) && entry.Expires > now ? entry.Policy : null;
        string? id;
        try
        {
            id = await DiscoverAsync(domain, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException)
        {
            return cached;
        }

        if (id is null || (cached is not null && cached.Id == id))
        {
            return cached;
        }

        var fetched = await FetchAsync(domain, id, cancellationToken).ConfigureAwait(false);
        if (fetched is null)
        {
            return cached;
        }

        _cache[domain] = (fetched, now + fetched.MaxAge);
        return fetched;
    }

    /// <summary>The id of the domain's "v=STSv1" TXT record at _mta-sts.domain (RFC 8461 §3.1), or null.</summary>
    private async Task<string?> DiscoverAsync(string domain, CancellationToken cancellationToken)
    {
        var response = await dns.QueryAsync("_mta-sts." + domain, QueryType.TXT, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        if (response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new DnsResponseException("MTA-STS discovery failed: " + response.ErrorMessage);
        }

        var records = response.Answers.OfType<TxtRecord>().Select(r => string.Concat(r.Text)).Where(t => t.StartsWith("v=STSv1", StringComparison.Ordinal)).ToList();
        if (records.Count != 1)
        {
            return null;
        }

        return records[0].Split(';').Select(f => f.Trim().Split('=', 2)).FirstOrDefault(p => p.Length == 2 && p[0] == "id")?[1];
    }

    private async Task<MtaStsPolicy?> FetchAsync(string domain, string id, CancellationToken cancellationToken)
    {
        var host = "mta-sts." + domain;
        var roots = trustedRoots is null ? [] : await trustedRoots(cancellationToken).ConfigureAwait(false);
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // RFC 8461 §3.3: redirects MUST NOT be followed
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UseProxy = false,
            ConnectCallback = (context, ct) => ConnectAsync(context.DnsEndPoint.Host, ct),
            SslOptions = new SslClientAuthenticationOptions
            {
                // The policy host's certificate must be valid for it (RFC 8461 §3.3), from the system's roots or the
                // organization's trusted ones.
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => OutboundTls.IsTrusted(certificate, chain, errors, roots),
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var response = await http.GetAsync(new Uri($"https://{host}:{PolicyPort}/.well-known/mta-sts.txt"), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != System.Net.HttpStatusCode.OK || response.Content.Headers.ContentType?.MediaType != "text/plain")
            {
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxPolicyBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            return length > MaxPolicyBytes ? null : MtaStsPolicy.Parse(id, Encoding.UTF8.GetString(buffer, 0, length));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>The policy host is found through the node's resolver, as the MX hosts are, not the system's.</summary>
    private async ValueTask<Stream> ConnectAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = await dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync([.. addresses], PolicyPort, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
