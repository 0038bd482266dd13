using System.Globalization;
using System.Text;

namespace Postern.Bench;

/// <summary>Test messages of a given size: RFC 5322 headers and 76-character body lines, CRLF throughout.</summary>
internal static class MessageFactory
{
    /// <summary>A message of about <paramref name="sizeKb"/> KB; some body lines start with a dot to exercise dot-stuffing.</summary>
    public static byte[] Create(int sizeKb, string from, string to, string? newsgroups, long sequence)
    {
        var text = new StringBuilder();
        text.Append("From: ").Append(from).Append("\r\n");
        if (newsgroups is null)
        {
            text.Append("To: ").Append(to).Append("\r\n");
        }
        else
        {
            text.Append("Newsgroups: ").Append(newsgroups).Append("\r\n");
        }

        text.Append("Subject: Postern.Bench message ").Append(sequence.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        text.Append("Date: ").Append(DateTimeOffset.UtcNow.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)).Append("\r\n");
        text.Append("Message-ID: <").Append(Guid.NewGuid().ToString("N")).Append("@bench.invalid>\r\n");
        text.Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
        var target = sizeKb * 1024;
        var line = 0;
        while (text.Length < target)
        {
            var lead = line % 17 == 5 ? "." : "";
            var filler = new string((char)('a' + (line % 26)), 76 - lead.Length);
            text.Append(lead).Append(filler).Append("\r\n");
            line++;
        }

        if (line == 0)
        {
            text.Append("Empty body.\r\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>Dot-stuffs a CRLF message and appends the ".CRLF" terminator (SMTP DATA, NNTP POST).</summary>
    public static byte[] DotStuff(byte[] message)
    {
        using var output = new MemoryStream(message.Length + 64);
        var atLineStart = true;
        foreach (var b in message)
        {
            if (atLineStart && b == (byte)'.')
            {
                output.WriteByte((byte)'.');
            }

            output.WriteByte(b);
            atLineStart = b == (byte)'\n';
        }

        if (!atLineStart)
        {
            output.Write("\r\n"u8);
        }

        output.Write(".\r\n"u8);
        return output.ToArray();
    }
}
