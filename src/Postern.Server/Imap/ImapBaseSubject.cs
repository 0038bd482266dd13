using System.Text;

namespace Postern.Server.Imap;

/// <summary>
/// The base subject of RFC 5256 §2.1, which SORT SUBJECT and both THREAD algorithms compare: the subject without
/// "Re:", "Fwd:", "[list]" tags, "(fwd)" trailers and "[fwd: ...]" wrappers.
/// </summary>
internal static class ImapBaseSubject
{
    /// <param name="subject">The decoded (RFC 2047) Subject, or null when the message has none.</param>
    /// <param name="isReplyOrForward">Whether a reply or forward marker was removed (RFC 5256 §2.1, used by REFERENCES step 5).</param>
    public static string Extract(string? subject, out bool isReplyOrForward)
    {
        isReplyOrForward = false;
        if (string.IsNullOrEmpty(subject))
        {
            return string.Empty;
        }

        // (1) Tabs and folding become spaces; runs of spaces become one.
        var text = NormalizeWhitespace(subject);
        while (true)
        {
            // (2) Trailers: "(fwd)" and white space, repeatedly.
            while (true)
            {
                if (text.EndsWith(' '))
                {
                    text = text[..^1];
                }
                else if (text.EndsWith("(fwd)", StringComparison.OrdinalIgnoreCase))
                {
                    text = text[..^5];
                    isReplyOrForward = true;
                }
                else
                {
                    break;
                }
            }

            // (5) Repeat (3) and (4) until neither removes anything.
            bool removed;
            do
            {
                removed = false;

                // (3) One subj-leader: a space, or blobs followed by "re", "fw" or "fwd" and a colon.
                if (text.StartsWith(' '))
                {
                    text = text[1..];
                    removed = true;
                }
                else if (MatchReplyOrForwardLeader(text) is var leader and > 0)
                {
                    text = text[leader..];
                    isReplyOrForward = true;
                    removed = true;
                }

                // (4) A leading blob, unless nothing but white space would be left.
                if (MatchBlob(text, 0) is var blob and > 0 && text.AsSpan(blob).Trim(' ').Length > 0)
                {
                    text = text[blob..];
                    removed = true;
                }
            }
            while (removed);

            // (6) "[fwd: ...]": unwrap and start again from (2).
            if (text.Length >= 6 && text.StartsWith("[fwd:", StringComparison.OrdinalIgnoreCase) && text.EndsWith(']'))
            {
                text = text[5..^1];
                isReplyOrForward = true;
                continue;
            }

            return text;
        }
    }

    /// <summary>The key SORT and THREAD compare: i;ascii-casemap (RFC 5256 §2.1, RFC 4790 §9.2), ASCII letters upper-cased.</summary>
    public static string ComparisonKey(string baseSubject)
    {
        var hasLower = false;
        foreach (var c in baseSubject)
        {
            hasLower |= c is >= 'a' and <= 'z';
        }

        if (!hasLower)
        {
            return baseSubject;
        }

        return string.Create(baseSubject.Length, baseSubject, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c is >= 'a' and <= 'z' ? (char)(c - 32) : c;
            }
        });
    }

    private static string NormalizeWhitespace(string subject)
    {
        var builder = new StringBuilder(subject.Length);
        var lastWasSpace = false;
        foreach (var c in subject)
        {
            var isSpace = c is ' ' or '\t' or '\r' or '\n';
            if (isSpace)
            {
                if (!lastWasSpace)
                {
                    builder.Append(' ');
                }
            }
            else
            {
                builder.Append(c);
            }

            lastWasSpace = isSpace;
        }

        return builder.ToString();
    }

    /// <summary>
    /// <c>*subj-blob subj-refwd</c> at the start, where <c>subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"</c>;
    /// the length matched, or 0.
    /// </summary>
    private static int MatchReplyOrForwardLeader(string text)
    {
        var position = 0;
        while (MatchBlob(text, position) is var blob and > 0)
        {
            position += blob;
        }

        if (StartsWithAt(text, position, "re"))
        {
            position += 2;
        }
        else if (StartsWithAt(text, position, "fwd"))
        {
            position += 3;
        }
        else if (StartsWithAt(text, position, "fw"))
        {
            position += 2;
        }
        else
        {
            return 0;
        }

        while (position < text.Length && text[position] == ' ')
        {
            position++;
        }

        position += MatchBlob(text, position);
        return position < text.Length && text[position] == ':' ? position + 1 : 0;
    }

    /// <summary><c>subj-blob = "[" *BLOBCHAR "]" *WSP</c> at <paramref name="start"/>; the length matched, or 0.</summary>
    private static int MatchBlob(string text, int start)
    {
        if (start >= text.Length || text[start] != '[')
        {
            return 0;
        }

        // BLOBCHAR is anything but the brackets (RFC 5256 §5 limits it to US-ASCII; decoded subjects are Unicode).
        var close = start + 1;
        while (close < text.Length && text[close] != ']')
        {
            if (text[close] == '[')
            {
                return 0;
            }

            close++;
        }

        if (close >= text.Length)
        {
            return 0;
        }

        var end = close + 1;
        while (end < text.Length && text[end] == ' ')
        {
            end++;
        }

        return end - start;
    }

    private static bool StartsWithAt(string text, int position, string word) =>
        position + word.Length <= text.Length && string.Compare(text, position, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) == 0;
}
