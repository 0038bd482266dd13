using System.Text;
using Postern.Server.Smtp;

namespace Postern.UnitTests.Smtp;

public sealed class SmtpProtocolHandlerTests
{
    [Fact]
    public void The_busy_and_shutdown_replies_name_the_server_as_RFC_5321_section_4_2_asks_of_421()
    {
        var handler = new SmtpProtocolHandler("mx.example.test");

        Assert.Equal("421 4.7.0 mx.example.test Too many connections, try again later\r\n", Encoding.ASCII.GetString(handler.BusyReply.Span));
        Assert.Equal("421 4.3.2 mx.example.test Service shutting down, closing transmission channel\r\n", Encoding.ASCII.GetString(handler.ShutdownReply.Span));
    }
}
