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
                await Console.Error.WriteLineAsync("postern: " + OneLine(ex.Message)).ConfigureAwait(false);
                return 1;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A --file that cannot be read or an --out that cannot be written: one line too, not a stack trace.
                await Console.Error.WriteLineAsync("postern: " + OneLine(ex.Message)).ConfigureAwait(false);
                return 1;
            }
            catch (System.Text.Json.JsonException)
            {
                // A server of another version, or a path the server answered with something else: still one line.
                await Console.Error.WriteLineAsync("postern: the server's answer was not what this command expects (is 'postern serve' the same version?)").ConfigureAwait(false);
                return 1;
            }
        });

    /// <summary>
    /// A refusal as the one line it must be: a line break or other control character echoed from the input (a name
    /// pasted with its newline) is shown escaped, so a script reading the first line of stderr gets all of it.
    /// </summary>
    public static string OneLine(string message) =>
        string.Concat(message.Select(c => c switch { '\r' => "\\r", '\n' => "\\n", '\t' => "\\t", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString() }));

    /// <summary>
    /// Checks, before anything is asked of the server, that <paramref name="path"/> can be written: a request or a key
    /// the server made for a file that then cannot be written would be left pending or lost.
    /// </summary>
    public static void EnsureWritable(string? path)
    {
        if (path is null)
        {
            return;
        }

        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new CliException($"cannot write {path}: it is a directory");
        }

        var existed = File.Exists(full);
        using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write))
        {
        }

        if (!existed)
        {
            File.Delete(full);
        }
    }

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

    /// <summary>A size as administrators write it: 1048576, 500K, 250M, 2G (powers of 1024); "none" or 0 for no limit.</summary>
    public static long ParseSize(string value, string what)
    {
        var text = value.Trim();
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase) || text.Equals("unlimited", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        var shift = char.ToUpperInvariant(text.Length > 0 ? text[^1] : ' ') switch
        {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            'T' => 40,
            _ => 0,
        };
        var digits = shift == 0 ? text : text[..^1];
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number > (long.MaxValue >> shift))
        {
            throw new CliException($"{what}: a number of octets, optionally with K, M, G or T (e.g. 500M), or \"none\"");
        }

        return number << shift;
    }

    /// <summary>The reverse of <see cref="ParseSize"/>, for listings: "500M", "1.5G", or "none".</summary>
    public static string FormatSize(long octets)
    {
        if (octets <= 0)
        {
            return "none";
        }

        string[] units = ["", "K", "M", "G", "T"];
        var unit = 0;
        double value = octets;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString(value < 10 && unit > 0 ? "0.#" : "0", System.Globalization.CultureInfo.InvariantCulture) + units[unit];
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
