using System.Text;
using Postern.Store;

namespace Postern.UnitTests.Store;

public sealed class CrlfLineEndsTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("a\r\nb\r\n", "a\r\nb\r\n")]
    [InlineData("a\r\nb", "a\r\nb\r\n")]
    [InlineData("a\nb\n", "a\r\nb\r\n")]
    [InlineData("a\r\nb\nc", "a\r\nb\r\nc\r\n")]
    [InlineData("a\rb\r\n", "a\rb\r\n")]
    [InlineData("a\r", "a\r\n")]
    [InlineData("\n\n", "\r\n\r\n")]
    public void The_size_is_that_of_the_octets_written(string content, string sent)
    {
        // POP3 lists the size, NNTP's :bytes counts it, and both must be what goes on the wire.
        var octets = Encoding.ASCII.GetBytes(content);
        Assert.Equal(sent, Encoding.ASCII.GetString(CrlfLineEnds.ToArray(octets)));
        Assert.Equal(sent.Length, CrlfLineEnds.Size(octets));
    }
}
