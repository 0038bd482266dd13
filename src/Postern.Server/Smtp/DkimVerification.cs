using System.Text;
using DnsClient;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Postern.Server.Smtp;

/// <summary>
/// Checks the DKIM signatures of mail arriving from other servers (RFC 6376 §6) and records the outcome in an
/// Authentication-Results field (RFC 8601) for the reader's client and filters, as OpenDKIM does in front of Postfix.
/// Unsigned mail costs a scan of its header for the field name, nothing more. An Authentication-Results field that
/// already claims to come from this server is forged (RFC 8601 §5: a border MTA MUST delete such fields); it is removed.
/// </summary>
public sealed class DkimVerification
{
    /// <summary>At most this many signatures of one message are checked by default (each may cost a DNS lookup).</summary>
    public const int DefaultMaxSignatures = 5;

    private static readonly byte[] SignatureField = "dkim-signature:"u8.ToArray();
    private static readonly byte[] ResultsField = "authentication-results:"u8.ToArray();

    private readonly DkimVerifier _verifier;
    private readonly string _authServId;

    /// <param name="dns">Where the signers' public keys are looked up (TXT selector._domainkey.domain).</param>
    /// <param name="authServId">This server's name, the authentication service identifier of RFC 8601 §2.5.</param>
    public DkimVerification(ILookupClient dns, string authServId)
    {
        _verifier = new DkimVerifier(new DnsPublicKeyLocator(dns));
        _authServId = authServId;
    }

    /// <summary>
    /// The message with an Authentication-Results field in front when it carries a DKIM signature; the message itself
    /// when it carries none (and no field claiming to be ours).
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> CheckAsync(ReadOnlyMemory<byte> message, int maxSignatures, CancellationToken cancellationToken)
    {
        var (signed, hasResults) = FieldsPresent(HeaderSection(message.Span));
        if (!signed && !hasResults)
        {
            return message;
        }

        await Connections.EventThread.ToThreadPool();
        using var stream = MessageStreams.Open(message);
        var parsed = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
        var forged = parsed.Headers.Where(h => h.Id == HeaderId.AuthenticationResults && ClaimsToBeOurs(h.Value)).ToList();
        if (forged.Count > 0)
        {
            foreach (var field in forged)
            {
                parsed.Headers.Remove(field);
            }

            using var rewritten = new MemoryStream();
            await parsed.WriteToAsync(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, rewritten, cancellationToken).ConfigureAwait(false);
            message = rewritten.ToArray();
        }

        if (!signed)
        {
            return message;
        }

        var results = new List<string>();
        foreach (var signature in parsed.Headers.Where(h => h.Id == HeaderId.DkimSignature).Take(maxSignatures))
        {
            var tags = Tags(signature.Value);
            var identity = $"header.d={Property(tags, "d")} header.s={Property(tags, "s")}";
            string outcome;
            try
            {
                outcome = await _verifier.VerifyAsync(parsed, signature, cancellationToken).ConfigureAwait(false) ? "pass" : "fail";
            }
            catch (Exception ex) when (ex is DnsResponseException or TimeoutException)
            {
                outcome = "temperror";
            }
            catch (Exception ex) when (ex is FormatException or ParseException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                outcome = "permerror";
            }

            results.Add($"dkim={outcome} {identity}");
        }

        var text = $"Authentication-Results: {_authServId};\r\n\t{string.Join(";\r\n\t", results)}\r\n";
        var bytes = Encoding.ASCII.GetBytes(text);
        var withResults = new byte[bytes.Length + message.Length];
        bytes.CopyTo(withResults, 0);
        message.CopyTo(withResults.AsMemory(bytes.Length));
        return withResults;
    }

    private bool ClaimsToBeOurs(string value)
    {
        var id = value.TrimStart().Split([';', ' ', '\t', '\r', '\n'], 2)[0];
        return id.Equals(_authServId, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The header section: up to the first empty line (or all of it).</summary>
    private static ReadOnlySpan<byte> HeaderSection(ReadOnlySpan<byte> message)
    {
        var end = message.IndexOf("\r\n\r\n"u8);
        return end < 0 ? message : message[..(end + 2)];
    }

    /// <summary>Whether a DKIM-Signature and an Authentication-Results field start lines of the header section (names are case-insensitive, RFC 5322 §1.2.2); one pass.</summary>
    private static (bool Signature, bool Results) FieldsPresent(ReadOnlySpan<byte> header)
    {
        var signature = false;
        var results = false;
        while (!header.IsEmpty && !(signature && results))
        {
            signature |= StartsWithIgnoreCase(header, SignatureField);
            results |= StartsWithIgnoreCase(header, ResultsField);
            var next = header.IndexOf("\r\n"u8);
            header = next < 0 ? default : header[(next + 2)..];
        }

        return (signature, results);
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> line, ReadOnlySpan<byte> name) =>
        line.Length >= name.Length && Ascii.EqualsIgnoreCase(line[..name.Length], name);

    // RFC 6376 §3.2: tag=value pairs separated by semicolons.
    private static Dictionary<string, string> Tags(string value) =>
        value.Split(';').Select(t => t.Split('=', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim(), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.Ordinal);

    // RFC 8601 §2.7.1: a property value is a token; anything else in a hostile signature is dropped.
    private static string Property(Dictionary<string, string> tags, string name) =>
        tags.TryGetValue(name, out var value) && value.Length is > 0 and <= 253 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')
            ? value
            : "unknown";

    /// <summary>Finds a signer's public key in DNS: the TXT record at selector._domainkey.domain (RFC 6376 §3.6.2).</summary>
    private sealed class DnsPublicKeyLocator(ILookupClient dns) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            LocatePublicKeyAsync(methods, domain, selector, cancellationToken).GetAwaiter().GetResult();

        public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
        {
            var response = await dns.QueryAsync($"{selector}._domainkey.{domain}", QueryType.TXT, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            // RFC 6376 §6.1.2: no key record is a permanent failure, a DNS server that cannot answer a temporary one.
            if (response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
            {
                throw new DnsResponseException("the key lookup failed: " + response.ErrorMessage);
            }

            // A record's strings are joined (RFC 6376 §3.6.2.2); the key record is the one that names DKIM1 or a key.
            var record = response.Answers.TxtRecords().Select(r => string.Concat(r.Text)).FirstOrDefault(t => t.Contains("p=", StringComparison.Ordinal))
                ?? throw new FormatException($"no DKIM key at {selector}._domainkey.{domain}");
            return GetPublicKey(record);
        }
    }
}
