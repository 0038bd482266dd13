using Postern.Protocols.Nntp;

namespace Postern.UnitTests.Nntp;

public sealed class WildmatTests
{
    [Theory]
    [InlineData("*", "example.general", true)]
    [InlineData("example.*", "example.general", true)]
    [InlineData("example.*", "examples.general", false)]
    [InlineData("example.gen?ral", "example.general", true)]
    [InlineData("example.gen?ral", "example.genral", false)]
    [InlineData("*.general", "example.general", true)]
    [InlineData("example.general", "EXAMPLE.GENERAL", true)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("", "anything", false)]
    public void SinglePatterns(string wildmat, string text, bool expected) => Assert.Equal(expected, Wildmat.Matches(wildmat, text));

    [Theory]
    // RFC 3977 §4.4 examples: the rightmost matching pattern decides.
    [InlineData("a*,!*b,*c*", "aaa", true)]
    [InlineData("a*,!*b,*c*", "abb", false)]
    [InlineData("a*,!*b,*c*", "ccb", true)]
    [InlineData("a*,!*b,*c*", "xxx", false)]
    [InlineData("example.*,!example.local", "example.local", false)]
    [InlineData("example.*,!example.local", "example.general", true)]
    [InlineData("!example.*", "example.general", false)]
    public void RightmostMatchDecides(string wildmat, string text, bool expected) => Assert.Equal(expected, Wildmat.Matches(wildmat, text));

    [Theory]
    [InlineData("example.*", true)]
    [InlineData("a*,!b", true)]
    [InlineData("", false)]
    [InlineData("a,,b", false)]
    [InlineData("[abc]", false)]
    [InlineData("a b", false)]
    public void Validity(string wildmat, bool valid) => Assert.Equal(valid, Wildmat.IsValid(wildmat));

    [Fact]
    public void PathologicalPatternsStayFast()
    {
        var text = new string('a', 5000);
        var pattern = string.Concat(Enumerable.Repeat("*a", 200)) + "b";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(Wildmat.Matches(pattern, text));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
    }
}
