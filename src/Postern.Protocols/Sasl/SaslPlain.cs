using System.Text;

namespace Postern.Protocols.Sasl;

public readonly record struct SaslCredentials(string AuthorizationId, string AuthenticationId, string Password);

/// <summary>SASL PLAIN (RFC 4616) and the LOGIN mechanism's base64 steps.</summary>
public static class SaslPlain
{
    /// <summary>
    /// Decodes "[authzid] NUL authcid NUL passwd" from base64.
    /// </summary>
    /// <remarks>RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd; each 1*255 UTF-8 chars without NUL.</remarks>
    public static bool TryDecode(ReadOnlySpan<char> base64, out SaslCredentials credentials)
    {
        credentials = default;
        if (!TryDecodeBase64(base64, out var bytes))
        {
            return false;
        }

        var first = Array.IndexOf(bytes, (byte)0);
        if (first < 0)
        {
            return false;
        }

        var second = Array.IndexOf(bytes, (byte)0, first + 1);
        if (second < 0 || Array.IndexOf(bytes, (byte)0, second + 1) >= 0)
        {
            return false;
        }

        try
        {
            var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
            var authzid = strict.GetString(bytes, 0, first);
            var authcid = strict.GetString(bytes, first + 1, second - first - 1);
            var password = strict.GetString(bytes, second + 1, bytes.Length - second - 1);
            if (authcid.Length == 0 || password.Length == 0)
            {
                return false;
            }

            credentials = new SaslCredentials(authzid, authcid, password);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>Decodes one base64 SASL response; "=" is the empty response (RFC 4954 §4).</summary>
    public static bool TryDecodeBase64(ReadOnlySpan<char> base64, out byte[] bytes)
    {
        base64 = base64.Trim();
        if (base64 is "=")
        {
            bytes = [];
            return true;
        }

        bytes = new byte[(base64.Length / 4 * 3) + 3];
        if (Convert.TryFromBase64Chars(base64, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }

        bytes = [];
        return false;
    }

    public static bool TryDecodeText(ReadOnlySpan<char> base64, out string text)
    {
        text = "";
        if (!TryDecodeBase64(base64, out var bytes))
        {
            return false;
        }

        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
