using System.Buffers;
using System.Text;
using Postern.Protocols.Pop3;

namespace Postern.UnitTests.Pop3;

public sealed class Pop3ReplyWriterTests
{
    [Fact]
    public void WritesStatusLinesAndResponseCodes()
    {
        var output = new ArrayBufferWriter<byte>();
        Pop3ReplyWriter.WriteOk(output, "");
        Pop3ReplyWriter.WriteOk(output, "2 320");
        Pop3ReplyWriter.WriteError(output, Pop3ResponseCode.InUse, "locked");
        Pop3ReplyWriter.WriteError(output, null, "no such message");
        Pop3ReplyWriter.WriteContinuation(output, []);
        Pop3ReplyWriter.WriteContinuation(output, "Username:"u8);
        Assert.Equal("+OK\r\n+OK 2 320\r\n-ERR [IN-USE] locked\r\n-ERR no such message\r\n+ \r\n+ VXNlcm5hbWU6\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void MultiLineRepliesAreStuffedAndTerminated()
    {
        var output = new ArrayBufferWriter<byte>();
        Pop3ReplyWriter.WriteLine(output, ".odd");
        Pop3ReplyWriter.WriteScanLine(output, 1, 120);
        Pop3ReplyWriter.WriteUniqueIdLine(output, 1, "17.1");
        Pop3ReplyWriter.WriteEnd(output);
        Assert.Equal("..odd\r\n1 120\r\n1 17.1\r\n.\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void ReplyTextCannotEndTheLineEarly()
    {
        var output = new ArrayBufferWriter<byte>();
        Pop3ReplyWriter.WriteError(output, null, "a\r\n+OK b");
        Assert.Equal("-ERR a  +OK b\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }
}
