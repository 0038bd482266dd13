using System.Globalization;

namespace Postern.Bench;

/// <summary>One reading of a server process from /proc (Linux).</summary>
internal sealed record ProcessSample(long PeakRssKb, long RssKb, double CpuMilliseconds);

/// <summary>
/// Samples /proc/PID/status (VmHWM, VmRSS) and /proc/PID/stat (utime + stime) of the server under test.
/// Before the run it asks the kernel to reset the peak (writing 5 to /proc/PID/clear_refs, which needs the
/// right to ptrace the process); when that is refused, VmHWM is the peak since the server started.
/// </summary>
internal static class ServerProcessSampler
{
    // USER_HZ, the unit of utime and stime, is 100 on every Linux architecture .NET runs on.
    private const double MillisecondsPerTick = 10.0;

    public static ProcessSample? Sample(int pid)
    {
        try
        {
            long hwm = 0;
            long rss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = Kilobytes(line);
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kilobytes(line);
                }
            }

            // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

            // Fields 14 (utime) and 15 (stime) of proc(5); fields[0] here is field 3.
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return new ProcessSample(hwm, rss, ticks * MillisecondsPerTick);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Resets the process's peak RSS to its current RSS; false when not permitted.</summary>
    public static bool TryResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long Kilobytes(string line)
    {
        var digits = new string(line.Where(char.IsAsciiDigit).ToArray());
        return long.Parse(digits, CultureInfo.InvariantCulture);
    }
}
