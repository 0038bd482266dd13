using System.CommandLine;
using System.Text.Json;

namespace Postern.Host.Cli;

/// <summary>Options every admin verb shares, and output in table or JSON form.</summary>
internal static class CliSupport
{
    public static readonly Option<string> Data = new("--data")
    {
        Description = "Data folder of the server (database, keys, admin credentials)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("POSTERN_DATA") ?? "data",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print machine-readable JSON",
        Recursive = true,
    };

    /// <summary>Wraps an admin verb: connects with the data folder's credentials; refusals become one line and exit 1.</summary>
    public static void SetAdminAction(this Command command, Func<ParseResult, AdminClient, CancellationToken, Task> action) =>
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                using var client = AdminClient.Connect(parse.GetValue(Data)!);
                await action(parse, client, ct).ConfigureAwait(false);
                return 0;
            }
            catch (CliException ex)
            {
                await Console.Error.WriteLineAsync("postern: " + ex.Message).ConfigureAwait(false);
                return 1;
            }
        });

    public static void Print<T>(ParseResult parse, T value, Func<T, IEnumerable<string[]>>? rows = null, string[]? header = null)
    {
        if (parse.GetValue(Json) || rows is null)
        {
            Console.WriteLine(JsonSerializer.Serialize(value, AdminClient.JsonOptions));
            return;
        }

        var table = rows(value).ToList();
        if (header is not null)
        {
            table.Insert(0, header);
        }

        if (table.Count == 0)
        {
            return;
        }

        var widths = new int[table.Max(r => r.Length)];
        foreach (var row in table)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in table)
        {
            Console.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
    }

    public static bool ParseOnOff(string? value, string option) => value?.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" or "1" => true,
        "off" or "false" or "no" or "0" => false,
        _ => throw new CliException($"{option} takes on or off, not '{value}'"),
    };

    public static async Task<string> ReadPasswordFromStdinAsync()
    {
        var line = await Console.In.ReadLineAsync().ConfigureAwait(false);
        if (string.IsNullOrEmpty(line))
        {
            throw new CliException("no password on standard input");
        }

        return line;
    }
}
