using System.Text;
using Postern.Server.Smtp.Delivery;

namespace Postern.UnitTests.Smtp;

public sealed class SmtpMessageAcceptorTests
{
    [Theory]
    [InlineData("Subject: none\r\n\r\nbody\r\n", 0)]
    [InlineData("Received: from a\r\n\tby b; date\r\nreceived : from c; date\r\nRECEIVED:x\r\nSubject: s\r\n\r\nReceived: in the body\r\n", 3)]
    [InlineData("Received-SPF: pass\r\nX-Received: x\r\nReceivedx: y\r\n\r\n", 0)]
    [InlineData("Received: a\r\nReceived: b", 2)]
    [InlineData("Subject: no blank line\r\nReceived: a\r\nnot a header\r\nReceived: b\r\n", 2)]
    [InlineData("", 0)]
    public void CountsReceivedFieldsInTheHeaderOnly(string message, int expected) =>
        Assert.Equal(expected, SmtpMessageAcceptor.CountReceivedFields(Encoding.ASCII.GetBytes(message), 100));

    [Fact]
    public void StopsCountingAtEnough()
    {
        var message = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("Received: from x; date\r\n", 500)) + "\r\nbody\r\n");
        Assert.Equal(50, SmtpMessageAcceptor.CountReceivedFields(message, 50));
        Assert.Equal(500, SmtpMessageAcceptor.CountReceivedFields(message, 1000));
    }
}
