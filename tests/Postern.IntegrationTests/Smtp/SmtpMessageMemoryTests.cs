using System.Text;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.IntegrationTests.Smtp;

/// <summary>Messages on their way in share one memory budget (serve --max-message-memory): past it, 452 and try later.</summary>
public sealed class SmtpMessageMemoryTests
{
    private const int Budget = 1024 * 1024;

    private static byte[] Body(int octets) =>
        Encoding.ASCII.GetBytes("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", octets / 1000)));

    private static async Task<RawSmtpClient> ReadyAsync(InProcessServerPort port)
    {
        var client = await RawSmtpClient.ConnectAsync(port.Value);
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        return client;
    }

    private static async Task EnvelopeAsync(RawSmtpClient client)
    {
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<bob@example.test>"));
    }

    private static async Task<string> DataAsync(RawSmtpClient client, byte[] body)
    {
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        await client.WriteAsync([.. body, .. ".\r\n"u8]);
        return await client.ReadReplyAsync(60_000);
    }

    [Fact]
    public async Task A_message_past_the_shared_budget_gets_452_and_gives_its_share_back()
    {
        var budget = new MessageMemoryBudget(Budget);
        await using var server = await SmtpTestServer.StartAsync(budget, "example.test", SmtpTestServer.InboundServer());
        await using var client = await ReadyAsync(new(server.PortOf(SmtpTestServer.Inbound, BindingMode.StartTls)));

        await EnvelopeAsync(client);
        Assert.StartsWith("452 4.3.1", await DataAsync(client, Body(2_000_000)));
        Assert.Equal(0, budget.UsedBytes);

        // BDAT the same (RFC 3030 §2: the transaction is over after the failed chunk).
        await EnvelopeAsync(client);
        await client.WriteAsync([.. "BDAT 2000000 LAST\r\n"u8, .. new byte[2_000_000]]);
        Assert.StartsWith("452 4.3.1", await client.ReadReplyAsync(60_000));
        Assert.Equal(0, budget.UsedBytes);

        // The session goes on, and a message within the budget is taken.
        await EnvelopeAsync(client);
        Assert.StartsWith("250", await DataAsync(client, Body(800_000)));
        Assert.Equal(0, budget.UsedBytes);
        var inbox = await SmtpTestServer.InboxAsync(server, "bob@example.test");
        Assert.True(Assert.Single(inbox).Length > 800_000);
    }

    [Fact]
    public async Task A_client_that_goes_away_mid_message_gives_its_share_back()
    {
        var budget = new MessageMemoryBudget(Budget);
        await using var server = await SmtpTestServer.StartAsync(budget, "example.test", SmtpTestServer.InboundServer());
        var port = new InProcessServerPort(server.PortOf(SmtpTestServer.Inbound, BindingMode.StartTls));
        await using (var gone = await ReadyAsync(port))
        {
            await EnvelopeAsync(gone);
            Assert.StartsWith("354", await gone.CommandAsync("DATA"));
            await gone.WriteAsync(Body(800_000));
            for (var i = 0; budget.UsedBytes < 700_000; i++)
            {
                Assert.True(i < 300, "the server did not take the first 800 KB");
                await Task.Delay(100);
            }
        }

        for (var i = 0; budget.UsedBytes > 0; i++)
        {
            Assert.True(i < 300, $"{budget.UsedBytes} octets still held after the client went away");
            await Task.Delay(100);
        }

        // Had the first client's share leaked, these 800 KB would not fit.
        await using var next = await ReadyAsync(port);
        await EnvelopeAsync(next);
        Assert.StartsWith("250", await DataAsync(next, Body(800_000)));
    }

    private readonly record struct InProcessServerPort(int Value);
}
