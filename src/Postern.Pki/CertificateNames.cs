using System.Collections.Frozen;
using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Postern.Pki;

/// <summary>Validation of what an administrator types into the request wizard.</summary>
internal static class CertificateNames
{
    // ISO 3166-1 alpha-2 officially assigned codes.
    private static readonly FrozenSet<string> Countries = (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
        "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
        "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
        "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
        "MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
        "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
        "UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW").Split(' ').ToFrozenSet(StringComparer.Ordinal);

    public static IReadOnlyCollection<string> CountryCodes => Countries;

    public static bool IsCountry(string? code) => code is { Length: 2 } && Countries.Contains(code);

    /// <summary>
    /// A fully qualified DNS name: at least two labels of letters, digits and inner hyphens, 1–63 octets each,
    /// 253 in all (RFC 1035 §2.3.1, RFC 1123 §2.1); a wildcard is allowed as the whole left-most label.
    /// </summary>
    public static bool IsFqdn(string? name, bool allowWildcard)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 253)
        {
            return false;
        }

        var labels = name.Split('.');
        if (labels.Length < 2)
        {
            return false;
        }

        for (var i = 0; i < labels.Length; i++)
        {
            var label = labels[i];
            if (i == 0 && allowWildcard && label == "*" && labels.Length >= 3)
            {
                continue;
            }

            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        // A name of digits only in the last label is an IP address typed as a name.
        return !labels[^1].All(char.IsAsciiDigit);
    }

    /// <summary>Turns "host.example.com", "dns:x", "ip:1.2.3.4" or a bare IP address into the stored "dns:"/"ip:" form.</summary>
    public static string? NormalizeServerName(string input)
    {
        var text = input.Trim();
        if (text.StartsWith("ip:", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.TryParse(text[3..], out var ip) ? "ip:" + ip : null;
        }

        if (text.StartsWith("dns:", StringComparison.OrdinalIgnoreCase))
        {
            text = text[4..];
        }

        if (IPAddress.TryParse(text, out var address) && (text.Contains(':', StringComparison.Ordinal) || text.Count(c => c == '.') == 3))
        {
            return "ip:" + address;
        }

        return IsFqdn(text, allowWildcard: true) ? "dns:" + text.ToLowerInvariant() : null;
    }

    public const string CountryOid = "2.5.4.6";
    public const string StateOid = "2.5.4.8";
    public const string LocalityOid = "2.5.4.7";
    public const string OrganizationOid = "2.5.4.10";
    public const string OrganizationalUnitOid = "2.5.4.11";
    public const string CommonNameOid = "2.5.4.3";
    public const string EmailOid = "1.2.840.113549.1.9.1";

    /// <summary>
    /// A distinguished name from attributes given most significant first (C, ST, L, O, OU, CN), which is the order
    /// they take in the DER. X500DistinguishedNameBuilder encodes the last-added attribute first, hence the reversal.
    /// Empty values are left out.
    /// </summary>
    public static X500DistinguishedName Subject(params (string Oid, string? Value)[] mostSignificantFirst)
    {
        var builder = new X500DistinguishedNameBuilder();
        for (var i = mostSignificantFirst.Length - 1; i >= 0; i--)
        {
            var (oid, value) = mostSignificantFirst[i];
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            switch (oid)
            {
                case CountryOid:
                    builder.AddCountryOrRegion(value.Trim());
                    break;
                case EmailOid:
                    builder.AddEmailAddress(value.Trim());
                    break;
                default:
                    builder.Add(oid, value.Trim(), UniversalTagNumber.UTF8String);
                    break;
            }
        }

        return builder.Build();
    }

    public static bool IsEmailAddress(string? address)
    {
        if (string.IsNullOrEmpty(address) || address.Length > 254)
        {
            return false;
        }

        var at = address.LastIndexOf('@');
        return at > 0 && at <= 64 && address.All(c => c > ' ' && c < 127) && IsFqdn(address[(at + 1)..], allowWildcard: false);
    }
}
