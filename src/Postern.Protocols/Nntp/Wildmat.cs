namespace Postern.Protocols.Nntp;

/// <summary>
/// RFC 3977 §4 wildmats: comma-separated patterns, each optionally negated with '!'; '*' matches any
/// run of characters and '?' exactly one. The rightmost pattern that matches decides (§4.2).
/// </summary>
public static class Wildmat
{
    public static bool IsValid(string wildmat)
    {
        if (string.IsNullOrEmpty(wildmat))
        {
            return false;
        }

        foreach (var part in wildmat.Split(','))
        {
            var pattern = part.StartsWith('!') ? part[1..] : part;
            if (pattern.Length == 0 || pattern.Any(c => char.IsControl(c) || c is ' ' or '!' or ',' or '\\' or '[' or ']'))
            {
                return false;
            }
        }

        return true;
    }

    public static bool Matches(string wildmat, string text)
    {
        var parts = wildmat.Split(',');
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            var part = parts[i];
            var negated = part.StartsWith('!');
            if (MatchesPattern(negated ? part.AsSpan(1) : part.AsSpan(), text))
            {
                return !negated;
            }
        }

        return false;
    }

    /// <summary>Iterative glob match (backtracks to the last '*' only, so it is linear-ish and cannot blow up).</summary>
    internal static bool MatchesPattern(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
