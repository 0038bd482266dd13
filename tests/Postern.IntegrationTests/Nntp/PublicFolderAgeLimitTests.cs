using Postern.IntegrationTests.Infrastructure;
using Postern.Store;

namespace Postern.IntegrationTests.Nntp;

/// <summary>Public-folder age limits (Exchange's; INN's expire): set with the CLI, applied by the hourly maintenance.</summary>
public sealed class PublicFolderAgeLimitTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task The_cli_sets_and_clears_a_folders_age_limit_and_refuses_a_bad_one()
    {
        var added = await _server.CliAsync(null, "public-folder", "add", "Archive", "--newsgroup", "example.archive");
        Assert.True(added.ExitCode == 0, added.Error);

        var set = await _server.CliAsync(null, "public-folder", "set", "Archive", "--age-limit", "30");
        Assert.True(set.ExitCode == 0, set.Error);
        Assert.Contains("age limit 30 days", set.Output, StringComparison.Ordinal);
        Assert.Contains("\"ageLimitDays\": 30", (await _server.CliAsync(null, "public-folder", "list", "--json")).Output, StringComparison.Ordinal);

        var bad = await _server.CliAsync(null, "public-folder", "set", "Archive", "--age-limit", "soon");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--age-limit", bad.Error, StringComparison.Ordinal);
        var tooLong = await _server.CliAsync(null, "public-folder", "set", "Archive", "--age-limit", "99999");
        Assert.NotEqual(0, tooLong.ExitCode);

        var off = await _server.CliAsync(null, "public-folder", "set", "Archive", "--age-limit", "off");
        Assert.True(off.ExitCode == 0, off.Error);
        Assert.DoesNotContain("age limit", off.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Messages_older_than_the_age_limit_go_newer_ones_and_unlimited_folders_stay()
    {
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        var general = (await folders.FindNewsgroupAsync("example.general", CancellationToken.None))!;
        var kept = (await folders.AddFolderAsync("Example/Kept", "example.kept", null, CancellationToken.None)).Value!;
        var now = DateTimeOffset.UtcNow;
        async Task PostAsync(string id, long folderId, TimeSpan age) =>
            Assert.Equal(ArticleOutcome.Stored, (await folders.PostArticleAsync(new NewArticle(System.Text.Encoding.ASCII.GetBytes($"Subject: {id}\r\nMessage-ID: {id}\r\n\r\nbody\r\n"), id, [folderId], now - age), CancellationToken.None)).Outcome);
        await PostAsync("<old@x>", general.Id, TimeSpan.FromDays(10));
        await PostAsync("<new@x>", general.Id, TimeSpan.FromDays(1));
        await PostAsync("<kept@x>", kept.Id, TimeSpan.FromDays(400));

        Assert.Equal(StoreStatus.Invalid, await folders.SetAgeLimitAsync(general.Id, 0, CancellationToken.None));
        Assert.Equal(StoreStatus.Ok, await folders.SetAgeLimitAsync(general.Id, 7, CancellationToken.None));
        Assert.Equal(7, (await folders.GetFolderByIdAsync(general.Id, CancellationToken.None))!.AgeLimitDays);

        Assert.Equal(1, await folders.ExpireByAgeLimitAsync(now, CancellationToken.None));
        Assert.Empty(await folders.FindByMessageIdAsync("<old@x>", CancellationToken.None));
        Assert.Single(await folders.FindByMessageIdAsync("<new@x>", CancellationToken.None));
        Assert.Single(await folders.FindByMessageIdAsync("<kept@x>", CancellationToken.None));
        Assert.Equal(NewsHistoryState.Expired, (await folders.GetHistoryAsync("<old@x>", CancellationToken.None))!.State);
        Assert.Equal(0, await folders.ExpireByAgeLimitAsync(now, CancellationToken.None));

        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        Assert.Equal("211 1 2 2 example.general", await client.CommandAsync("GROUP example.general"));
    }
}
