using System.Buffers;
using System.Text;
using Postern.Protocols.Nntp;

namespace Postern.UnitTests.Nntp;

public sealed class NntpSyntaxTests
{
    [Theory]
    [InlineData("<a@b>", true)]
    [InlineData("<abc.123$x@host.example>", true)]
    [InlineData("a@b", false)]
    [InlineData("<a b@c>", false)]
    [InlineData("<a>b@c>", false)]
    [InlineData("<>", false)]
    [InlineData(null, false)]
    public void MessageIds(string? id, bool valid) => Assert.Equal(valid, NntpSyntax.IsMessageId(id));

    [Theory]
    [InlineData("<a@b>", true)]
    [InlineData("<abc.123$x@host.example>", true)]
    [InlineData("<a.b!#$%&'*+/=?^_`{|}~-@c>", true)]
    [InlineData("<\"quoted\\\"local\"@example.test>", true)]
    [InlineData("<a@[literal.part]>", true)]
    [InlineData("<@>", false)]
    [InlineData("<@b>", false)]
    [InlineData("<a@>", false)]
    [InlineData("<a<b@c>", false)]
    [InlineData("<a..b@c>", false)]
    [InlineData("<.a@c>", false)]
    [InlineData("<a@b@c>", false)]
    [InlineData("<a\"q\"@c>", false)]
    [InlineData("<\"\"@c>", false)]
    [InlineData("<a@[]>", false)]
    [InlineData("<a@[x[y]>", false)]
    [InlineData("<a,b@c>", false)]
    public void InjectedMessageIdsFollowRfc5536(string id, bool valid) => Assert.Equal(valid, NntpSyntax.IsArticleMessageId(id));

    [Fact]
    public void OverlongMessageIdIsInvalid() => Assert.False(NntpSyntax.IsMessageId("<" + new string('a', 250) + "@b>"));

    [Theory]
    [InlineData("5", 5, 5)]
    [InlineData("3-", 3, long.MaxValue)]
    [InlineData("3-7", 3, 7)]
    [InlineData("7-3", 7, 3)]
    public void Ranges(string text, long low, long high)
    {
        Assert.True(NntpSyntax.TryParseRange(text, out var l, out var h));
        Assert.Equal(low, l);
        Assert.Equal(high, h);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("-5")]
    [InlineData("a-b")]
    [InlineData("1-2-3")]
    [InlineData("99999999999999999999")]
    [InlineData("+5")]
    public void BadRanges(string text) => Assert.False(NntpSyntax.TryParseRange(text, out _, out _));

    [Fact]
    public void DatesWithTwoAndFourDigitYears()
    {
        var now = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        Assert.True(NntpSyntax.TryParseDateTime("20261127", "093000", now, out var value));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 9, 30, 0, TimeSpan.Zero), value);

        // RFC 3977 §7.3.2: a two-digit year not in the future belongs to this century, otherwise the previous one.
        Assert.True(NntpSyntax.TryParseDateTime("261127", "000000", now, out value));
        Assert.Equal(2026, value.Year);
        Assert.True(NntpSyntax.TryParseDateTime("990101", "000000", now, out value));
        Assert.Equal(1999, value.Year);

        Assert.False(NntpSyntax.TryParseDateTime("20261301", "000000", now, out _));
        Assert.False(NntpSyntax.TryParseDateTime("20260230", "000000", now, out _));
        Assert.False(NntpSyntax.TryParseDateTime("2026", "000000", now, out _));
        Assert.False(NntpSyntax.TryParseDateTime("20260101", "246000", now, out _));
        Assert.Equal("20261127120000", NntpSyntax.FormatDate(now));
    }

    [Fact]
    public void DotStuffingRoundTripsAndNormalizesLineEndings()
    {
        var output = new ArrayBufferWriter<byte>();
        NntpDotStuffing.WriteBlock(output, "Subject: x\n\n.leading dot\r\n..two\nlast without newline"u8);
        var wire = Encoding.ASCII.GetString(output.WrittenSpan);
        Assert.Equal("Subject: x\r\n\r\n..leading dot\r\n...two\r\nlast without newline\r\n.\r\n", wire);

        var decoder = new NntpDotDecoder();
        var decoded = new ArrayBufferWriter<byte>();
        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.Equal(DotDecodeStatus.Complete, decoder.Decode(ref buffer, decoded));
        Assert.True(buffer.IsEmpty);
        Assert.Equal("Subject: x\r\n\r\n.leading dot\r\n..two\r\nlast without newline\r\n", Encoding.ASCII.GetString(decoded.WrittenSpan));
    }

    [Fact]
    public void DecoderHandlesInputSplitAtEveryByteAndLeavesWhatFollows()
    {
        var wire = Encoding.ASCII.GetBytes("line one\r\n..dotted\r\nbare lf\nlong" + new string('x', 3000) + "\r\n.\r\nNEXT COMMAND\r\n");
        var decoder = new NntpDotDecoder();
        var decoded = new ArrayBufferWriter<byte>();
        var pending = new List<byte>();
        var status = DotDecodeStatus.NeedMoreData;
        var i = 0;
        for (; i < wire.Length && status != DotDecodeStatus.Complete; i++)
        {
            pending.Add(wire[i]);
            var buffer = new ReadOnlySequence<byte>(pending.ToArray());
            status = decoder.Decode(ref buffer, decoded);
            pending = [.. buffer.ToArray()];
        }

        Assert.Equal(DotDecodeStatus.Complete, status);
        Assert.Equal("NEXT COMMAND\r\n", Encoding.ASCII.GetString(wire, i, wire.Length - i));
        Assert.Equal("line one\r\n.dotted\r\nbare lf\r\nlong" + new string('x', 3000) + "\r\n", Encoding.ASCII.GetString(decoded.WrittenSpan));
        Assert.Equal(decoded.WrittenCount, decoder.Length);
    }

    [Fact]
    public void DecoderKeepsALoneCarriageReturnInsideALine()
    {
        var decoder = new NntpDotDecoder();
        var decoded = new ArrayBufferWriter<byte>();
        var first = new ReadOnlySequence<byte>("a\r"u8.ToArray());
        Assert.Equal(DotDecodeStatus.NeedMoreData, decoder.Decode(ref first, decoded));
        var second = new ReadOnlySequence<byte>("b\r\n.\r\n"u8.ToArray());
        Assert.Equal(DotDecodeStatus.Complete, decoder.Decode(ref second, decoded));
        Assert.Equal("a\rb\r\n", Encoding.ASCII.GetString(decoded.WrittenSpan));
    }

    [Fact]
    public void DiscardingDecoderStillCountsAndFindsTheEnd()
    {
        var decoder = new NntpDotDecoder();
        var buffer = new ReadOnlySequence<byte>("12345\r\n.\r\n"u8.ToArray());
        Assert.Equal(DotDecodeStatus.Complete, decoder.Decode(ref buffer, null));
        Assert.Equal(7, decoder.Length);
    }
}
