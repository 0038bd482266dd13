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

    [Theory]
    [InlineData("a\r\nb\r\n", false)]
    [InlineData("", false)]
    [InlineData("a\nb\r\n", true)]
    [InlineData("a\rb\r\n", true)]
    [InlineData("a\r\n\r", true)]
    [InlineData("a\r\r\n", true)]
    [InlineData("\n", true)]
    public void FindsBareLineEnds(string message, bool bare) =>
        Assert.Equal(bare, SmtpMessageAcceptor.HasBareLineEnd(Encoding.ASCII.GetBytes(message)));

    [Theory]
    [InlineData("body only, no header section\r\n", true)]
    [InlineData("", false)]
    [InlineData("Subject: x\r\n\r\nbody\r\n", false)]
    public void SubmittedTextWithoutAHeaderSectionGetsDateMessageIdAndTheEmptyLine(string message, bool headerless)
    {
        var trace = "Received: from x\r\n"u8.ToArray();
        var content = trace.Concat(Encoding.ASCII.GetBytes(message)).ToArray();

        var completed = Encoding.ASCII.GetString(SmtpMessageAcceptor.AddMissingSubmissionHeaders(content, trace.Length, "mail.example.test", DateTimeOffset.UnixEpoch).Span);

        Assert.StartsWith("Received: from x\r\nMessage-ID: <", completed, StringComparison.Ordinal);
        Assert.Contains("\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n" + (headerless ? "\r\n" : "") + message, completed, StringComparison.Ordinal);
        var parsed = MimeKit.MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(completed)));
        Assert.NotNull(parsed.Headers[MimeKit.HeaderId.Date]);
    }

    [Theory]
    [InlineData(false, "Received: from xn--n-nga1b.example ([192.0.2.1])")]
    [InlineData(true, "Received: from ünï.example ([192.0.2.1])")]
    public void AnEhloNameWithULabelsGoesInAsALabelsUnlessTheMessageIsSmtpUtf8(bool smtpUtf8, string expected)
    {
        var received = Encoding.UTF8.GetString(SmtpMessageAcceptor.ReceivedHeader("ünï.example", System.Net.IPAddress.Parse("192.0.2.1"), "mx.example.test", true, null, false, smtpUtf8, "ID1", null, DateTimeOffset.UnixEpoch));
        Assert.StartsWith(expected, received, StringComparison.Ordinal);
    }
}
