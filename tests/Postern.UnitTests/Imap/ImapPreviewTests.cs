using System.Text;
using MimeKit;
using Postern.Server.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapPreviewTests
{
    private static string Preview(string message) =>
        ImapPreview.For(MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(message))));

    [Fact]
    public void Plain_text_loses_quotes_signature_and_extra_white_space() =>
        Assert.Equal("Hi, the report is attached. Thanks", Preview("Subject: x\r\n\r\n\r\n  Hi,\r\n> > old text\r\n>old\r\n\tthe report  is attached.\r\n\r\nThanks\r\n-- \r\nAlice\r\n"));

    [Fact]
    public void Html_loses_markup_scripts_styles_and_quoted_blocks() =>
        Assert.Equal("Price: 5 € now", Preview("Content-Type: text/html; charset=utf-8\r\n\r\n<html><head><title>T</title><style>b{}</style></head>" +
            "<body><p>Price:&nbsp;5&nbsp;&euro;</p><blockquote><p>earlier</p></blockquote><script>alert(1)</script><div>now</div></body></html>"));

    [Fact]
    public void The_plain_alternative_is_preferred_and_attachments_are_ignored()
    {
        var message = "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n" +
            "--a\r\nContent-Type: text/plain\r\n\r\nplain words\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>html words</p>\r\n--a--\r\n" +
            "--m\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment\r\n\r\nattached\r\n--m--\r\n";
        Assert.Equal("plain words", Preview(message));
    }

    [Fact]
    public void A_message_without_text_has_an_empty_preview() =>
        Assert.Equal(string.Empty, Preview("Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"));

    [Fact]
    public void Long_text_stops_at_256_characters_without_splitting_a_surrogate_pair()
    {
        Assert.Equal(256, Preview("Subject: x\r\n\r\n" + new string('a', 1000) + "\r\n").Length);

        // 255 letters, then an emoji (two UTF-16 units): it would end at 257, so it is left out entirely.
        var preview = Preview("Content-Type: text/plain; charset=utf-8\r\n\r\n" + new string('a', 255) + "\U0001F600 more\r\n");
        Assert.Equal(new string('a', 255), preview);
        Assert.DoesNotContain(preview, char.IsSurrogate);
    }
}
