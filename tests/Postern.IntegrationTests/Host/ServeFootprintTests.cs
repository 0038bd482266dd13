using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Host;

/// <summary>What a running `postern serve` holds besides its sockets and its store.</summary>
public sealed class ServeFootprintTests
{
    [Fact]
    public async Task The_server_watches_no_files_so_that_writing_its_store_raises_no_file_events()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // reads /proc
        }

        // A watcher on the working directory (the web host's for a reloadable appsettings.json) would see every write to
        // the database's log when the data folder is below it, as with the default `--data data`.
        await using var server = await PosternProcess.StartAsync();
        var watchers = Directory.GetFiles($"/proc/{server.ProcessId}/fd")
            .Select(fd => new FileInfo(fd).LinkTarget ?? "")
            .Where(target => target.Contains("inotify", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(watchers);
    }
}
