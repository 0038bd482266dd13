using System.Text.RegularExpressions;

namespace Postern.IntegrationTests.Pop3;

/// <summary>Replays client transcripts ("C:" sent, "S:" expected exactly, "S~" a regular expression) over a clear-text connection.</summary>
public sealed class Pop3TranscriptTests
{
    [Theory]
    [InlineData("rfc1939-example.txt")]
    [InlineData("errors.txt")]
    public async Task Replay(string name)
    {
        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync("alice@example.test");
        await server.DeliverAsync(alice, Pop3TestServer.Message(1));
        await server.DeliverAsync(alice, Pop3TestServer.Message(2));

        var path = Path.Combine(AppContext.BaseDirectory, "Pop3", "Transcripts", name);
        await using var client = await Pop3RawClient.ConnectAsync(server.StartTlsPort, readGreeting: false);
        var number = 0;
        foreach (var line in await File.ReadAllLinesAsync(path))
        {
            number++;
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var text = line.Length > 3 ? line[3..] : "";
            switch (line[..2])
            {
                case "C:":
                    await client.SendAsync(text + "\r\n");
                    break;
                case "S:":
                    Assert.True(await client.ReadLineAsync() is { } reply && reply == text, $"{name}:{number}: expected \"{text}\"");
                    break;
                case "S~":
                    var actual = await client.ReadLineAsync();
                    Assert.True(actual is not null && Regex.IsMatch(actual, text), $"{name}:{number}: \"{actual}\" does not match {text}");
                    break;
                default:
                    Assert.Fail($"{name}:{number}: a transcript line starts with C:, S: or S~");
                    break;
            }
        }

        Assert.True(await client.IsClosedAsync());
    }
}
