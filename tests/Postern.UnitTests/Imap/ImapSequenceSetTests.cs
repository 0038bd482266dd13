using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapSequenceSetTests
{
    [Theory]
    [InlineData("1", "1")]
    [InlineData("1:5", "1:5")]
    [InlineData("5:1", "5:1")]
    [InlineData("*", "*")]
    [InlineData("1:*", "1:*")]
    [InlineData("1,3:4,7:*", "1,3:4,7:*")]
    [InlineData("4294967295", "4294967295")]
    [InlineData("$", "$")]
    public void Parses_valid_sets(string text, string expected)
    {
        Assert.True(ImapSequenceSet.TryParse(text, out var set));
        Assert.Equal(expected, set.ToString());
        Assert.Equal(text == "$", set.IsSavedResult);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("01")]
    [InlineData("1:")]
    [InlineData(":1")]
    [InlineData("1,")]
    [InlineData(",1")]
    [InlineData("1,,2")]
    [InlineData("4294967296")]
    [InlineData("1:2:3")]
    [InlineData("a")]
    [InlineData("$,1")]
    [InlineData("1 2")]
    [InlineData("**")]
    public void Rejects_invalid_sets(string text) => Assert.False(ImapSequenceSet.TryParse(text, out _));

    [Fact]
    public void Resolves_star_and_reversed_ranges_and_merges()
    {
        Assert.True(ImapSequenceSet.TryParse("7:*,2,3,1,20:18,4", out var set));
        Assert.Equal([(1u, 4u), (7u, 10u)], set.Resolve(10));
        Assert.True(set.Contains(9, 10));
        Assert.False(set.Contains(5, 10));
        Assert.False(set.Contains(19, 10));
        Assert.True(set.Contains(19, 25));
    }

    [Fact]
    public void Star_in_an_empty_mailbox_matches_nothing()
    {
        Assert.True(ImapSequenceSet.TryParse("*", out var set));
        Assert.Empty(set.Resolve(0));

        // RFC 3501 §6.4.8: "n:*" always includes the largest number, even when n is larger.
        Assert.True(ImapSequenceSet.TryParse("20:*", out var high));
        Assert.Equal([(10u, 10u)], high.Resolve(10));
    }

    [Fact]
    public void Formats_numbers_compactly()
    {
        Assert.Equal("1:3,7,9:10", ImapSequenceSet.Format([10, 3, 1, 2, 9, 7, 7]));
        Assert.Equal(string.Empty, ImapSequenceSet.Format([]));
    }
}
