using System.Text;
using MimeKit;
using MimeKit.Text;

namespace Postern.Server.Imap;

/// <summary>
/// The PREVIEW of RFC 8970: the start of the message's text as one line of at most 256 characters. Quoted lines and the
/// signature are left out and runs of white space become one space, as Dovecot's snippets do; HTML loses its markup.
/// </summary>
internal static class ImapPreview
{
    /// <summary>RFC 8970 §3.2: at most 256 characters.</summary>
    public const int MaxLength = 256;

    public static string For(MimeMessage message)
    {
        var builder = new PreviewBuilder();
        if (message.TextBody is { } text)
        {
            AddPlainText(builder, text);
        }
        else if (message.HtmlBody is { } html)
        {
            AddHtml(builder, html);
        }

        return builder.ToString();
    }

    private static void AddPlainText(PreviewBuilder builder, string text)
    {
        using var reader = new StringReader(text);
        while (!builder.IsFull && reader.ReadLine() is { } line)
        {
            // "-- " starts the signature (RFC 3676 §4.3); "> " lines quote an earlier message.
            if (line == "-- ")
            {
                break;
            }

            if (!line.StartsWith('>'))
            {
                builder.Add(line);
                builder.Add(" ");
            }
        }
    }

    private static void AddHtml(PreviewBuilder builder, string html)
    {
        using var reader = new StringReader(html);
        var tokenizer = new HtmlTokenizer(reader);
        var hidden = 0;
        while (!builder.IsFull && tokenizer.ReadNextToken(out var token))
        {
            switch (token)
            {
                case HtmlTagToken tag when tag.Id is HtmlTagId.Script or HtmlTagId.Style or HtmlTagId.Head or HtmlTagId.Title or HtmlTagId.BlockQuote:
                    if (!tag.IsEmptyElement)
                    {
                        hidden = Math.Max(0, hidden + (tag.IsEndTag ? -1 : 1));
                    }

                    break;
                case HtmlTagToken:
                    // Tags separate words: "<p>a</p><p>b</p>" reads "a b".
                    builder.Add(" ");
                    break;
                case HtmlDataToken data when hidden == 0:
                    builder.Add(data.Data);
                    break;
            }
        }
    }

    /// <summary>Collapses white space and control characters, and stops at the limit without splitting a surrogate pair.</summary>
    private sealed class PreviewBuilder
    {
        private readonly StringBuilder _text = new(MaxLength);
        private bool _pendingSpace;
        private bool _stopped;

        public bool IsFull => _stopped || _text.Length >= MaxLength;

        public void Add(string text)
        {
            foreach (var c in text)
            {
                if (IsFull)
                {
                    return;
                }

                if (char.IsWhiteSpace(c) || char.IsControl(c))
                {
                    _pendingSpace = _text.Length > 0;
                    continue;
                }

                if (_pendingSpace)
                {
                    _pendingSpace = false;
                    _text.Append(' ');
                    if (IsFull)
                    {
                        return;
                    }
                }

                if (char.IsHighSurrogate(c) && _text.Length == MaxLength - 1)
                {
                    _stopped = true;
                    return;
                }

                _text.Append(c);
            }
        }

        public override string ToString() => _text.ToString().TrimEnd();
    }
}
