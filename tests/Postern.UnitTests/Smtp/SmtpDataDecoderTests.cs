using System.Buffers;
using System.Text;
using Postern.Protocols.Smtp;

namespace Postern.UnitTests.Smtp;

public sealed class SmtpDataDecoderTests
{
    private sealed record Result(bool Complete, int Consumed, string Content, SmtpDataDecoder Decoder);

    private static Result DecodeWhole(string wire, long maxSize = 1_000_000, int maxLine = 1000) => DecodeSplit(Encoding.UTF8.GetBytes(wire), [], maxSize, maxLine);

    /// <summary>Feeds the bytes in pieces cut at the given offsets; the result must not depend on the cuts.</summary>
    private static Result DecodeSplit(byte[] wire, IReadOnlyList<int> cuts, long maxSize = 1_000_000, int maxLine = 1000)
    {
        var output = new ArrayBufferWriter<byte>();
        var decoder = new SmtpDataDecoder(output, maxSize, maxLine);
        var consumed = 0;
        var start = 0;
        var complete = false;
        foreach (var end in cuts.Append(wire.Length).Distinct().Order())
        {
            if (end <= start)
            {
                continue;
            }

            complete = decoder.Decode(wire.AsSpan(start, end - start), out var used);
            consumed += used;
            if (complete)
            {
                break;
            }

            Assert.Equal(end - start, used);
            start = end;
        }

        return new Result(complete, consumed, Encoding.UTF8.GetString(output.WrittenSpan), decoder);
    }

    [Fact]
    public void FindsTheTerminatorAndStopsThere()
    {
        var r = DecodeWhole("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        Assert.True(r.Complete);
        Assert.Equal("Subject: x\r\n\r\nbody\r\n.\r\n".Length, r.Consumed);
        Assert.Equal("Subject: x\r\n\r\nbody\r\n", r.Content);
        Assert.False(r.Decoder.SawBareLineFeed || r.Decoder.SawBareCarriageReturn || r.Decoder.TooLarge || r.Decoder.LineTooLong);
    }

    [Fact]
    public void EmptyMessageIsJustTheDot()
    {
        var r = DecodeWhole(".\r\n");
        Assert.True(r.Complete);
        Assert.Equal("", r.Content);
    }

    [Fact]
    public void RemovesDotStuffing()
    {
        var r = DecodeWhole("..leading\r\n...two\r\nmid.dot\r\n.x\r\n..\r\n.\r\n");
        Assert.True(r.Complete);
        Assert.Equal(".leading\r\n..two\r\nmid.dot\r\nx\r\n.\r\n", r.Content);
    }

    [Theory]
    [InlineData("body\n.\nmore\r\n.\r\n", true, false)]
    [InlineData("body\r.\rmore\r\n.\r\n", false, true)]
    [InlineData("body\r\n.\nmore\r\n.\r\n", true, false)]
    [InlineData("body\n.\r\nmore\r\n.\r\n", true, false)]
    [InlineData("body\r\n.\rmore\r\n.\r\n", false, true)]
    [InlineData("bare\nlf\r\n.\r\n", true, false)]
    [InlineData("bare\rcr\r\n.\r\n", false, true)]
    public void BareLineEndsNeverTerminateAndAreReported(string wire, bool bareLf, bool bareCr)
    {
        var r = DecodeWhole(wire);
        Assert.True(r.Complete);
        Assert.Equal(wire.Length, r.Consumed);
        Assert.Equal(bareLf, r.Decoder.SawBareLineFeed);
        Assert.Equal(bareCr, r.Decoder.SawBareCarriageReturn);
    }

    [Fact]
    public void IncompleteDataIsNotComplete()
    {
        foreach (var wire in new[] { "body\r\n.", "body\r\n.\r", "body\n.\n", "body\r.\r", "body\r\n" })
        {
            var r = DecodeWhole(wire);
            Assert.False(r.Complete, wire);
            Assert.Equal(wire.Length, r.Consumed);
        }
    }

    [Fact]
    public void EnforcesTheSizeLimitWithoutBufferingMore()
    {
        var wire = "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 98) + "\r\n", 100)) + ".\r\n";
        var r = DecodeWhole(wire, maxSize: 500);
        Assert.True(r.Complete);
        Assert.True(r.Decoder.TooLarge);
        Assert.Equal(500, Encoding.UTF8.GetByteCount(r.Content));
        Assert.Equal(wire.Length - 3, r.Decoder.Size);
    }

    [Fact]
    public void ExactlyAtTheLimitIsNotTooLarge()
    {
        var r = DecodeWhole("12345678\r\n.\r\n", maxSize: 10);
        Assert.False(r.Decoder.TooLarge);
        Assert.Equal("12345678\r\n", r.Content);
    }

    [Fact]
    public void ReportsOverlongTextLines()
    {
        Assert.True(DecodeWhole(new string('a', 999) + "\r\n.\r\n").Decoder.LineTooLong);
        Assert.False(DecodeWhole(new string('a', 998) + "\r\n.\r\n").Decoder.LineTooLong);
        Assert.True(DecodeWhole(new string('a', 50) + "\r\n.\r\n", maxLine: 40).Decoder.LineTooLong);
    }

    [Fact]
    public void TheTransparencyDotDoesNotCountTowardsTheLineLimit()
    {
        // RFC 5321 §4.5.3.1.6: 1000 octets with CRLF, "not counting the leading dot duplicated for transparency".
        var stuffed = Encoding.ASCII.GetBytes(".." + new string('a', 997) + "\r\n.\r\n");
        Assert.False(DecodeSplit(stuffed, []).Decoder.LineTooLong);
        Assert.False(DecodeSplit(stuffed, [1]).Decoder.LineTooLong);
        Assert.True(DecodeWhole(".." + new string('a', 998) + "\r\n.\r\n").Decoder.LineTooLong);
    }

    public static TheoryData<string> Samples() => new()
    {
        "Subject: x\r\n\r\n..dots\r\nline\r\n.\r\nafter",
        "a\n.\nb\r.\rc\r\n.\nd\r\n.\r\nMAIL FROM:<x@y>\r\n",
        "\r\n\r\n.\r\n",
        "..\r\n.\r.\r\n.\r\n",
        "x\r\r\n.\r\n",
        "ünïcødé\r\n.stuffed ünï\r\n.\r\n",
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void ByteByByteAndRandomSplitsGiveTheSameResult(string sample)
    {
        var wire = Encoding.UTF8.GetBytes(sample);
        var whole = DecodeSplit(wire, []);
        var everyByte = DecodeSplit(wire, Enumerable.Range(1, wire.Length).ToList());
        AssertSame(whole, everyByte);

        var random = new Random(sample.Length);
        for (var round = 0; round < 200; round++)
        {
            var cuts = Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(1, wire.Length)).ToList();
            AssertSame(whole, DecodeSplit(wire, cuts));
        }
    }

    private static void AssertSame(Result expected, Result actual)
    {
        Assert.Equal(expected.Complete, actual.Complete);
        Assert.Equal(expected.Consumed, actual.Consumed);
        Assert.Equal(expected.Content, actual.Content);
        Assert.Equal(expected.Decoder.SawBareLineFeed, actual.Decoder.SawBareLineFeed);
        Assert.Equal(expected.Decoder.SawBareCarriageReturn, actual.Decoder.SawBareCarriageReturn);
        Assert.Equal(expected.Decoder.Size, actual.Decoder.Size);
    }
}
