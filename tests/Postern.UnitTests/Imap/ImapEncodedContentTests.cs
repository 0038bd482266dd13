using System.Text;
using Postern.Server.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapEncodedContentTests
{
    [Theory]
    [InlineData("aGVsbG8=\r\n", true)]
    [InlineData("aGVs\r\nbG8g d29y bGQ=\r\n", true)]
    [InlineData("aGVsbA==", true)]
    [InlineData("aGVsbG8", false)]
    [InlineData("", true)]
    [InlineData("aGVsbG8=aGVsbG8=", false)]
    [InlineData("aGV*bG8=", false)]
    [InlineData("aGVsb", false)]
    [InlineData("aGVsbG8===", false)]
    [InlineData("====", false)]
    public void Base64(string encoded, bool valid) => Assert.Equal(valid, ImapEncodedContent.IsBase64(Encoding.ASCII.GetBytes(encoded)));

    [Theory]
    [InlineData("caf=C3=A9\r\n", true)]
    [InlineData("soft=\r\nbreak=  \r\nend=", true)]
    [InlineData("lower=c3=a9", true)]
    [InlineData("bad=ZZqp=", false)]
    [InlineData("short=A", false)]
    [InlineData("x=G0", false)]
    public void Quoted_printable(string encoded, bool valid) => Assert.Equal(valid, ImapEncodedContent.IsQuotedPrintable(Encoding.ASCII.GetBytes(encoded)));
}
