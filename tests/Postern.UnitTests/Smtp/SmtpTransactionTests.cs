using System.Buffers;
using Postern.Server.Smtp;

namespace Postern.UnitTests.Smtp;

public sealed class SmtpTransactionTests
{
    [Fact]
    public void ResetAfterALargeMessageGivesItsBufferBack()
    {
        // A client (on port 25, before any login) sends one message near the 50 MiB limit and then idles or sends NOOP:
        // the session must not hold a message-sized buffer for the rest of the connection.
        var transaction = new SmtpTransaction();
        transaction.Content.Write(new byte[8 * 1024 * 1024].AsSpan());
        transaction.Reset();

        Assert.Equal(0, transaction.Content.WrittenCount);
        Assert.True(transaction.Content.Capacity <= 1024 * 1024, $"{transaction.Content.Capacity} octets kept after the transaction");
    }

    [Fact]
    public void ResetAfterASmallMessageKeepsItsBufferForTheNext()
    {
        var transaction = new SmtpTransaction();
        transaction.Content.Write(new byte[100 * 1024].AsSpan());
        var buffer = transaction.Content;
        transaction.Reset();

        Assert.Same(buffer, transaction.Content);
        Assert.Equal(0, transaction.Content.WrittenCount);
    }
}
