using Postern.Server.Connections;

namespace Postern.IntegrationTests.Nntp;

/// <summary>Articles on their way in share the message memory with SMTP (serve --max-message-memory): past it, try later.</summary>
public sealed class NntpMessageMemoryTests
{
    // Headers a transit article must carry too (IHAVE, TAKETHIS).
    private const string TransitHeaders = "Path: peer.test!not-for-mail\nDate: Sun, 29 Nov 2026 06:00:00 +0000\n";

    private static string Article(string messageId, int bodyOctets) =>
        NntpTestServer.Article(messageId: messageId, body: string.Join("\n", Enumerable.Repeat(new string('x', 998), bodyOctets / 1000)), extraHeaders: TransitHeaders);

    [Fact]
    public async Task An_article_past_the_shared_budget_is_refused_for_now_and_taken_when_offered_again()
    {
        var budget = new MessageMemoryBudget(1024 * 1024);
        await using var server = await NntpTestServer.StartAsync(NntpTestServer.Config(maxSize: 4L * 1024 * 1024), messageMemory: budget);
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));

        // POST has no "try later" code: 441, saying so.
        Assert.StartsWith("441 Posting failed: the server is busy", await client.PostAsync(Article("<big-post@example.test>", 2_000_000)));
        Assert.Equal(0, budget.UsedBytes);
        Assert.StartsWith("240", await client.PostAsync(Article("<small-post@example.test>", 500_000)));

        // IHAVE: 436, and the same article offered again is wanted and taken.
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <big-ihave@example.test>"));
        Assert.StartsWith("436", await client.SendArticleAsync(Article("<big-ihave@example.test>", 2_000_000)));
        Assert.StartsWith("335", await client.CommandAsync("IHAVE <big-ihave@example.test>"));
        Assert.StartsWith("235", await client.SendArticleAsync(Article("<big-ihave@example.test>", 500_000)));

        // TAKETHIS: 439, not remembered as rejected, so it is taken when it comes again.
        Assert.StartsWith("203", await client.CommandAsync("MODE STREAM"));
        await client.SendAsync("TAKETHIS <big-stream@example.test>\r\n");
        Assert.Equal("439 <big-stream@example.test>", await client.SendArticleAsync(Article("<big-stream@example.test>", 2_000_000)));
        await client.SendAsync("TAKETHIS <big-stream@example.test>\r\n");
        Assert.Equal("239 <big-stream@example.test>", await client.SendArticleAsync(Article("<big-stream@example.test>", 500_000)));
        Assert.Equal(0, budget.UsedBytes);
    }
}
