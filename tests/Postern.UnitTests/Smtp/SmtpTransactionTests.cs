using System.Buffers;
using Postern.Server.Connections;
using Postern.Server.Smtp;

namespace Postern.UnitTests.Smtp;

public sealed class SmtpTransactionTests
{
    [Fact]
    public void ResetAfterALargeMessageGivesItsBufferBack()
    {
        // A client (on port 25, before any login) sends one message near the 50 MiB limit and then idles or sends NOOP:
        // the session must not hold a message-sized buffer for the rest of the connection.
        var transaction = new SmtpTransaction(new MessageMemoryBudget(MessageMemoryBudget.DefaultCapacityBytes));
        transaction.Content.Write(new byte[8 * 1024 * 1024].AsSpan());
        transaction.Reset();

        Assert.Equal(0, transaction.Content.WrittenCount);
        Assert.True(transaction.Content.Capacity <= 1024 * 1024, $"{transaction.Content.Capacity} octets kept after the transaction");
    }

    [Fact]
    public void ResetAfterASmallMessageKeepsItsBufferForTheNext()
    {
        var transaction = new SmtpTransaction(new MessageMemoryBudget(MessageMemoryBudget.DefaultCapacityBytes));
        transaction.Content.Write(new byte[100 * 1024].AsSpan());
        transaction.Reset();

        Assert.True(transaction.Content.Capacity >= 100 * 1024, $"{transaction.Content.Capacity} octets kept");
        Assert.Equal(0, transaction.Content.WrittenCount);
    }

    [Fact]
    public void A_message_the_budget_cannot_hold_is_counted_not_kept_and_its_reservation_comes_back()
    {
        var budget = new MessageMemoryBudget(256 * 1024);
        var first = new SmtpTransaction(budget);
        var second = new SmtpTransaction(budget);
        first.Content.Write(new byte[200 * 1024].AsSpan());
        Assert.False(first.Content.OverBudget);

        // The other transaction gets what is left, and no more: the rest of its message is not kept.
        second.Content.Write(new byte[200 * 1024].AsSpan());
        Assert.True(second.Content.OverBudget);
        Assert.True(second.Content.WrittenCount <= 64 * 1024, $"{second.Content.WrittenCount} octets kept past the budget");
        Assert.True(budget.UsedBytes <= budget.CapacityBytes);

        first.Reset();
        second.Reset();
        Assert.Equal(0, budget.UsedBytes);
        Assert.False(second.Content.OverBudget);
        second.Content.Write(new byte[200 * 1024].AsSpan());
        Assert.False(second.Content.OverBudget);
        Assert.Equal(200 * 1024, second.Content.WrittenCount);
    }
}
