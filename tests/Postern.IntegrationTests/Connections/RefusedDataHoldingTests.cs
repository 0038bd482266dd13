using System.Text;
using Postern.IntegrationTests.Nntp;
using Postern.IntegrationTests.Smtp;
using Postern.Store;

namespace Postern.IntegrationTests.Connections;

/// <summary>Tests that count the octets the (in-process) server allocates, so nothing else may run beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurementCollection
{
    public const string Name = "Allocation measurements";
}

/// <summary>
/// Data a protocol makes the client send after a refusal (a TAKETHIS article, a BDAT chunk) is read past and dropped
/// as it streams: a client cannot make the server hold it. Measured as the octets allocated while it arrives, which
/// would be at least the data's size (and twice it as the buffer grows) if it were kept.
/// </summary>
[Collection(AllocationMeasurementCollection.Name)]
public sealed class RefusedDataHoldingTests
{
    /// <summary>Whole lines of <see cref="s_block"/> (80 octets each), so an article's last line ends before its final dot.</summary>
    private const int DataSize = 300_000 * 80;

    /// <summary>Lines of 'x' ending in CRLF, sent again and again; no line starts with a dot.</summary>
    private static readonly byte[] s_block = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(new string('x', 78) + "\r\n", 800)));

    private static async Task SendBlocksAsync(Stream stream, long octets)
    {
        for (long sent = 0; sent < octets; sent += s_block.Length)
        {
            await stream.WriteAsync(s_block.AsMemory(0, (int)Math.Min(s_block.Length, octets - sent)));
        }

        await stream.FlushAsync();
    }

    private static async Task<(T Result, long Allocated)> MeasureAsync<T>(Func<Task<T>> action)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await action();
        return (result, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    [Fact]
    public async Task ATakeThisArticleFromAClientThatMayNotFeedIsDiscardedAsItStreams()
    {
        await using var server = await NntpTestServer.StartAsync(NntpTestServer.Config(maxSize: 2L * DataSize));
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("203", await client.CommandAsync("MODE STREAM"));

        var (reply, allocated) = await MeasureAsync(async () =>
        {
            await client.SendAsync("TAKETHIS <unfed@peer.test>\r\nPath: x!not-for-mail\r\nNewsgroups: example.general\r\nSubject: s\r\n\r\n");
            await SendBlocksAsync(client.Stream, DataSize);
            await client.SendAsync(".\r\n");
            return await client.ReadLineAsync();
        });

        Assert.StartsWith("480", reply);
        Assert.True(allocated < DataSize / 3, $"{allocated} octets allocated while a refused {DataSize}-octet article arrived");
        Assert.StartsWith("111 ", await client.CommandAsync("DATE"));
    }

    [Fact]
    public async Task ABdatChunkAnnouncedPastTheSizeLimitIsDiscardedAsItStreams()
    {
        await using var server = await SmtpTestServer.StartAsync("example.test", SmtpTestServer.InboundServer(new ConnectionLimits { MaxMessageSize = DataSize / 2 }));
        await using var client = await RawSmtpClient.ConnectAsync(server.PortOf(SmtpTestServer.Inbound, BindingMode.StartTls));
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<x@outside.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<bob@example.test>"));

        var (reply, allocated) = await MeasureAsync(async () =>
        {
            await client.WriteAsync($"BDAT {DataSize} LAST\r\n");
            await SendBlocksAsync(client.Stream, DataSize);
            return await client.ReadReplyAsync(60_000);
        });

        Assert.StartsWith("552 5.3.4", reply);
        Assert.True(allocated < DataSize / 3, $"{allocated} octets allocated while a {DataSize}-octet chunk past the limit arrived");
        Assert.StartsWith("250", await client.CommandAsync("NOOP"));
        Assert.Empty(await SmtpTestServer.InboxAsync(server, "bob@example.test"));
    }
}
