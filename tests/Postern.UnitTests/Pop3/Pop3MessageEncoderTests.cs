using System.Buffers;
using System.Text;
using Postern.Protocols.Pop3;

namespace Postern.UnitTests.Pop3;

public sealed class Pop3MessageEncoderTests
{
    private const string Message = "Subject: hi\r\nFrom: a@example.test\r\n\r\nline 1\r\n.hidden\r\n..two\r\n.\r\nline 5\r\n";

    [Fact]
    public void StuffsLinesStartingWithADot()
    {
        Assert.Equal("Subject: hi\r\nFrom: a@example.test\r\n\r\nline 1\r\n..hidden\r\n...two\r\n..\r\nline 5\r\n.\r\n", Encode(Message, null, Message.Length));
    }

    [Fact]
    public void SameOutputWhateverTheChunking()
    {
        var whole = Encode(Message, null, Message.Length);
        for (var size = 1; size < 12; size++)
        {
            Assert.Equal(whole, Encode(Message, null, size));
        }

        var random = new Random(1939);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(whole, EncodeRandomly(Message, null, random));
            Assert.Equal(Encode(Message, 2, Message.Length), EncodeRandomly(Message, 2, random));
        }
    }

    [Fact]
    public void BareLineFeedsBecomeCrLf()
    {
        Assert.Equal("a\r\n..b\r\nc\r\n.\r\n", Encode("a\n.b\r\nc\n", null, 1));
        Assert.Equal("a\r\n..b\r\nc\r\n.\r\n", Encode("a\n.b\r\nc\n", null, 100));
    }

    [Fact]
    public void EndsAnUnterminatedLastLine()
    {
        Assert.Equal("a\r\nno newline\r\n.\r\n", Encode("a\r\nno newline", null, 3));
        Assert.Equal("a\r\n.\r\n", Encode("a\r", null, 1));
        Assert.Equal(".\r\n", Encode("", null, 1));
        Assert.Equal("..\r\n.\r\n", Encode(".", null, 1));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\r\nno newline")]
    [InlineData("a\r")]
    [InlineData("a\n.b\r\nc\n")]
    [InlineData("\n\n\r\n\r\r\n.x")]
    [InlineData(Message)]
    public void TheCrlfSizeIsWhatRetrSendsBeforeStuffing(string content)
    {
        // LIST and STAT report this size (RFC 1939 §5): the reply without its terminator and its byte-stuffing.
        var sent = Encode(content, null, 3)[..^".\r\n".Length];
        var unstuffed = string.Join("\r\n", sent.Split("\r\n").Select(line => line.StartsWith('.') ? line[1..] : line));
        Assert.Equal(unstuffed.Length, Postern.Store.CrlfLineEnds.Size(Encoding.ASCII.GetBytes(content)));
    }

    [Theory]
    [InlineData(0, "Subject: hi\r\nFrom: a@example.test\r\n\r\n.\r\n")]
    [InlineData(1, "Subject: hi\r\nFrom: a@example.test\r\n\r\nline 1\r\n.\r\n")]
    [InlineData(3, "Subject: hi\r\nFrom: a@example.test\r\n\r\nline 1\r\n..hidden\r\n...two\r\n.\r\n")]
    [InlineData(100, "Subject: hi\r\nFrom: a@example.test\r\n\r\nline 1\r\n..hidden\r\n...two\r\n..\r\nline 5\r\n.\r\n")]
    public void TopSendsHeaderBlankLineAndNBodyLines(long lines, string expected)
    {
        for (var size = 1; size <= Message.Length; size += 7)
        {
            Assert.Equal(expected, Encode(Message, lines, size));
        }
    }

    [Fact]
    public void TopReportsCompletionSoTheReaderCanStop()
    {
        var encoder = new Pop3MessageEncoder(1);
        var output = new ArrayBufferWriter<byte>();
        encoder.Write(Encoding.ASCII.GetBytes("H: v\r\n\r\nbody\r\n"), output);
        Assert.True(encoder.IsComplete);
        encoder.Write(Encoding.ASCII.GetBytes("more\r\n"), output);
        encoder.Finish(output);
        Assert.Equal("H: v\r\n\r\nbody\r\n.\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void TopOfAMessageWithoutBodySendsEverything()
    {
        Assert.Equal("H: v\r\nX: y\r\n.\r\n", Encode("H: v\r\nX: y\r\n", 5, 2));
    }

    private static string Encode(string content, long? lines, int chunk)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var encoder = new Pop3MessageEncoder(lines);
        var output = new ArrayBufferWriter<byte>();
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            encoder.Write(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)), output);
        }

        encoder.Finish(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static string EncodeRandomly(string content, long? lines, Random random)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var encoder = new Pop3MessageEncoder(lines);
        var output = new ArrayBufferWriter<byte>();
        var i = 0;
        while (i < bytes.Length)
        {
            var n = Math.Min(random.Next(0, 9), bytes.Length - i);
            encoder.Write(bytes.AsSpan(i, n), output);
            i += n;
        }

        encoder.Finish(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
