using System.Globalization;

namespace Postern.Bench;

/// <summary>One reading of a server: its main process and every descendant alive at that moment.</summary>
/// <param name="PeakRssKb">VmHWM of the main process.</param>
/// <param name="TreePeakRssKb">Sum of VmHWM over the tree (an upper bound of the tree's peak).</param>
/// <param name="TreeRssKb">Sum of VmRSS over the tree.</param>
/// <param name="CpuMilliseconds">User and system time of the tree, with the children each member has reaped.</param>
/// <param name="Processes">How many processes the tree had.</param>
internal sealed record ProcessSample(long PeakRssKb, long TreePeakRssKb, long TreeRssKb, double CpuMilliseconds, int Processes);

/// <summary>
/// Samples /proc for the server under test. Postern and INN's innd do their work in one process; Dovecot,
/// Postfix and nnrpd in children, so the whole process tree is summed: CPU is utime + stime + cutime + cstime
/// of every live member (a child that exits and is reaped moves its time into its parent's cutime/cstime,
/// so nothing is lost or counted twice between two samples). Before the run the main process's peak RSS is
/// reset (writing 5 to /proc/PID/clear_refs, which needs the right to ptrace it).
/// </summary>
internal static class ServerProcessSampler
{
    // USER_HZ, the unit of the tick counts in /proc/PID/stat, is 100 on every Linux architecture .NET runs on.
    private const double MillisecondsPerTick = 10.0;

    /// <summary>The tree of <paramref name="pid"/>, plus the trees of <paramref name="more"/> (servers made of unrelated daemons).</summary>
    public static ProcessSample? Sample(int pid, IReadOnlyList<int>? more = null)
    {
        if (ReadStat(pid) is null)
        {
            return null;
        }

        var tree = new List<int> { pid };
        tree.AddRange((more ?? []).Where(p => p != pid && ReadStat(p) is not null));
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in SafeDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var other) && !tree.Contains(other) && ReadStat(other) is { } stat)
            {
                if (!children.TryGetValue(stat.ParentPid, out var list))
                {
                    children[stat.ParentPid] = list = [];
                }

                list.Add(other);
            }
        }

        for (var i = 0; i < tree.Count; i++)
        {
            if (children.TryGetValue(tree[i], out var list))
            {
                tree.AddRange(list);
            }
        }

        double ticks = 0;
        long treePeak = 0;
        long treeRss = 0;
        long rootPeak = 0;
        foreach (var member in tree)
        {
            if (ReadStat(member) is not { } stat)
            {
                continue;
            }

            ticks += stat.Ticks;
            var (peak, rss) = ReadMemory(member);
            treePeak += peak;
            treeRss += rss;
            if (member == pid)
            {
                rootPeak = peak;
            }
        }

        return new ProcessSample(rootPeak, treePeak, treeRss, ticks * MillisecondsPerTick, tree.Count);
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

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static (int ParentPid, long Ticks)? ReadStat(int pid)
    {
        try
        {
            // The command name (field 2) may contain spaces and parentheses: split what follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

            // proc(5): field 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime; fields[0] here is field 3.
            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            long ticks = 0;
            for (var field = 14; field <= 17; field++)
            {
                ticks += long.Parse(fields[field - 3], CultureInfo.InvariantCulture);
            }

            return (parent, ticks);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static (long PeakKb, long RssKb) ReadMemory(int pid)
    {
        long peak = 0;
        long rss = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kilobytes(line);
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kilobytes(line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return (peak, rss);
    }

    private static long Kilobytes(string line) => long.Parse(new string(line.Where(char.IsAsciiDigit).ToArray()), CultureInfo.InvariantCulture);
}
