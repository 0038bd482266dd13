using System.Text;
using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapDateTimeTests
{
    [Theory]
    [InlineData("17-Jul-1996 02:44:25 -0700", 1996, 7, 17, 2, 44, 25, -7 * 60)]
    [InlineData(" 1-Jan-2020 00:00:00 +0000", 2020, 1, 1, 0, 0, 0, 0)]
    [InlineData("29-feb-2024 23:59:59 +0530", 2024, 2, 29, 23, 59, 59, 330)]
    public void Parses_date_time(string text, int year, int month, int day, int hour, int minute, int second, int offsetMinutes)
    {
        Assert.True(ImapDateTime.TryParseDateTime(Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.FromMinutes(offsetMinutes)), value);
    }

    [Theory]
    [InlineData("30-Feb-2024 00:00:00 +0000")]
    [InlineData("1-Jan-2020 00:00:00 +0000")]
    [InlineData("01-Foo-2020 00:00:00 +0000")]
    [InlineData("01-Jan-2020 24:00:00 +0000")]
    [InlineData("01-Jan-2020 00:00:00 0000")]
    [InlineData("01-Jan-2020T00:00:00 +0000")]
    [InlineData("01-Jan-0001 00:00:00 +1200")]
    [InlineData("31-Dec-9999 23:59:59 -1200")]
    public void Rejects_bad_date_time(string text) => Assert.False(ImapDateTime.TryParseDateTime(Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("1-Feb-1994", 1994, 2, 1)]
    [InlineData("01-Feb-1994", 1994, 2, 1)]
    [InlineData("31-DEC-1999", 1999, 12, 31)]
    public void Parses_search_dates(string text, int year, int month, int day)
    {
        Assert.True(ImapDateTime.TryParseDate(Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(new DateOnly(year, month, day), value);
    }

    [Theory]
    [InlineData("001-Feb-1994")]
    [InlineData("32-Jan-1994")]
    [InlineData("1-Feb-94")]
    [InlineData("1 Feb 1994")]
    public void Rejects_bad_search_dates(string text) => Assert.False(ImapDateTime.TryParseDate(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void Formats_with_quotes_and_zone()
    {
        var value = new DateTimeOffset(1994, 2, 7, 21, 52, 25, TimeSpan.FromHours(-8));
        Assert.Equal("\"07-Feb-1994 21:52:25 -0800\"", ImapDateTime.FormatDateTime(value));
        var text = ImapDateTime.FormatDateTime(value);
        Assert.True(ImapDateTime.TryParseDateTime(Encoding.ASCII.GetBytes(text[1..^1]), out var back));
        Assert.Equal(value, back);
    }
}
