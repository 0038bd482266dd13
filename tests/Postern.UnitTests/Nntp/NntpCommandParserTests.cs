using System.Text;
using Postern.Protocols.Nntp;

namespace Postern.UnitTests.Nntp;

public sealed class NntpCommandParserTests
{
    private static NntpParseStatus Parse(string line, out NntpCommand command) => NntpCommandParser.TryParse(Encoding.UTF8.GetBytes(line), out command);

    [Fact]
    public void KeywordIsCaseInsensitiveAndArgumentsSplitOnSpacesAndTabs()
    {
        Assert.Equal(NntpParseStatus.Ok, Parse("group \t example.general", out var command));
        Assert.Equal("GROUP", command.Keyword);
        Assert.Equal(["example.general"], command.Arguments);

        Assert.Equal(NntpParseStatus.Ok, Parse("xover 1-10", out command));
        Assert.Equal("XOVER", command.Keyword);
        Assert.Equal("1-10", command.Argument(0));
        Assert.Null(command.Argument(1));
    }

    [Theory]
    [InlineData("AUTHINFO PASS pass with  spaces ", "pass with  spaces ")]
    [InlineData("authinfo\tpass\t secret", " secret")]
    [InlineData("AUTHINFO PASS ", "")]
    [InlineData("AUTHINFO PASS", null)]
    public void RestAfterKeepsTheArgumentVerbatim(string line, string? rest)
    {
        // RFC 4643 §2.3: the password is everything after the one space that follows PASS.
        Assert.Equal(NntpParseStatus.Ok, Parse(line, out var command));
        Assert.Equal(rest, command.RestAfter(2));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t")]
    public void BlankLinesAreEmpty(string line) => Assert.Equal(NntpParseStatus.Empty, Parse(line, out _));

    [Fact]
    public void ControlCharactersInvalidUtf8AndOddKeywordsAreInvalid()
    {
        Assert.Equal(NntpParseStatus.Invalid, NntpCommandParser.TryParse([(byte)'G', 0, (byte)'X'], out _));
        Assert.Equal(NntpParseStatus.Invalid, NntpCommandParser.TryParse([0xFF, 0xFE], out _));
        Assert.Equal(NntpParseStatus.Invalid, Parse("GR<OUP x", out _));
        Assert.Equal(NntpParseStatus.Invalid, Parse("X " + string.Join(' ', Enumerable.Repeat("a", 40)), out _));
    }

    [Fact]
    public void Utf8ArgumentsAreAccepted()
    {
        Assert.Equal(NntpParseStatus.Ok, Parse("AUTHINFO USER jürgen", out var command));
        Assert.Equal("jürgen", command.Argument(1));
    }
}
