using System.Text;
using Postern.Server.Nntp;

namespace Postern.UnitTests.Nntp;

/// <summary>Header values as OVER and HDR give them (RFC 3977 §8.3.2).</summary>
public sealed class NewsArticleHeaderTests
{
    [Fact]
    public void A_folded_value_is_unfolded_and_its_tabs_become_spaces()
    {
        var headers = NewsArticle.ParseHeaders("Subject: first\r\n\tsecond\there\r\n\r\n"u8.ToArray());
        Assert.Equal("first second here", NewsArticle.RawValue(headers, "Subject"));
        Assert.Null(NewsArticle.RawValue(headers, "From"));
    }

    [Fact]
    public void Utf8_stays_as_it_is_and_unencoded_latin1_keeps_each_character()
    {
        var utf8 = NewsArticle.ParseHeaders(Encoding.UTF8.GetBytes("Subject: Grüße aus Köln\r\n\r\n"));
        Assert.Equal("Grüße aus Köln", NewsArticle.RawValue(utf8, "Subject"));

        // An old newsreader's 8-bit Latin-1 subject: not valid UTF-8, each octet still a character rather than U+FFFD.
        var latin1 = NewsArticle.ParseHeaders(Encoding.Latin1.GetBytes("Subject: Grüße aus Köln\r\n\r\n"));
        Assert.Equal("Grüße aus Köln", NewsArticle.RawValue(latin1, "Subject"));
    }
}
