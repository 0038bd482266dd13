using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Postern.Server.Smtp.Outbound;

public enum MailExchangerStatus
{
    Found = 0,

    /// <summary>The domain does not exist, or publishes a null MX (RFC 7505): a permanent failure.</summary>
    NoMail = 1,

    /// <summary>DNS trouble: try again later.</summary>
    TemporaryFailure = 2,
}

/// <summary>Hosts to try, best first.</summary>
public sealed record MailExchangerLookup(MailExchangerStatus Status, IReadOnlyList<string> Hosts, string? Error = null);

public interface IMailExchangerResolver
{
    Task<MailExchangerLookup> ResolveAsync(string domain, CancellationToken cancellationToken);
}

/// <summary>RFC 5321 §5.1: MX records by preference; without any, the domain's own A/AAAA (the implicit MX).</summary>
public sealed class DnsMailExchangerResolver(ILookupClient? lookup = null) : IMailExchangerResolver
{
    private readonly ILookupClient _lookup = lookup ?? new LookupClient(new LookupClientOptions { UseCache = true, Timeout = TimeSpan.FromSeconds(10), Retries = 2 });

    public async Task<MailExchangerLookup> ResolveAsync(string domain, CancellationToken cancellationToken)
    {
        // An address literal names the host itself (RFC 5321 §4.1.3).
        if (domain.StartsWith('[') && domain.EndsWith(']'))
        {
            var literal = domain[1..^1];
            if (literal.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            {
                literal = literal[5..];
            }

            return IPAddress.TryParse(literal, out var address)
                ? new MailExchangerLookup(MailExchangerStatus.Found, [address.ToString()])
                : new MailExchangerLookup(MailExchangerStatus.NoMail, [], "invalid address literal");
        }

        IDnsQueryResponse response;
        try
        {
            response = await _lookup.QueryAsync(domain, QueryType.MX, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException ex)
        {
            return new MailExchangerLookup(MailExchangerStatus.TemporaryFailure, [], "DNS lookup failed: " + ex.Message);
        }

        if (response.HasError)
        {
            return response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                ? new MailExchangerLookup(MailExchangerStatus.NoMail, [], $"domain {domain} does not exist")
                : new MailExchangerLookup(MailExchangerStatus.TemporaryFailure, [], "DNS lookup failed: " + response.ErrorMessage);
        }

        var records = response.Answers.OfType<MxRecord>().OrderBy(r => r.Preference).ToList();
        if (records.Count == 1 && records[0].Exchange.Value is "." or "")
        {
            return new MailExchangerLookup(MailExchangerStatus.NoMail, [], $"domain {domain} does not accept mail (null MX)");
        }

        if (records.Count > 0)
        {
            return new MailExchangerLookup(MailExchangerStatus.Found, records.Select(r => r.Exchange.Value.TrimEnd('.')).Where(h => h.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList());
        }

        // RFC 5321 §5.1: no MX → the domain itself, if it has an address record.
        var addresses = await _lookup.GetHostAddressesAsync(domain, cancellationToken).ConfigureAwait(false);
        return addresses.Count > 0
            ? new MailExchangerLookup(MailExchangerStatus.Found, [domain])
            : new MailExchangerLookup(MailExchangerStatus.NoMail, [], $"domain {domain} has no MX or address records");
    }
}

internal static class LookupClientExtensions
{
    public static async Task<IReadOnlyList<IPAddress>> GetHostAddressesAsync(this ILookupClient lookup, string host, CancellationToken cancellationToken)
    {
        var result = new List<IPAddress>();
        foreach (var type in new[] { QueryType.A, QueryType.AAAA })
        {
            var response = await lookup.QueryAsync(host, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            result.AddRange(response.Answers.OfType<AddressRecord>().Select(r => r.Address));
        }

        return result;
    }
}
