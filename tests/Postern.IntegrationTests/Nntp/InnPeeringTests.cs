using System.Diagnostics;

namespace Postern.IntegrationTests.Nntp;

/// <summary>Runs only where INN's innd is installed (Debian package inn2) and the tests run as root (INN runs as user news).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class InnFactAttribute : FactAttribute
{
    public const string Innd = "/usr/lib/news/bin/innd";

    public InnFactAttribute()
    {
        if (!File.Exists(Innd))
        {
            Skip = "INN is not installed: apt-get install -y --no-install-recommends inn2 (tests/interop/inn-peering.sh installs it when run as root)";
        }
        else if (Environment.UserName != "root")
        {
            Skip = "the INN interop test runs a private INN as user news and needs root";
        }
    }
}

/// <summary>Issue 5: a standard NNTP server (INN) peers with Postern both ways; the shell script does the work and prints PASS/FAIL.</summary>
public sealed class InnPeeringTests
{
    [InnFact]
    public async Task InnAndPosternPeerBothWays()
    {
        var script = FindScript();
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);

        // The postern.dll built next to the tests, so the script does not build the checkout again.
        start.Environment["POSTERN_CMD"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "postern.dll");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("inn-peering.sh did not finish in 3 minutes:\n" + await stdout);
            }
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0 && output.Contains("PASS", StringComparison.Ordinal), output);
        Assert.Contains("Postern -> INN: INN has", output, StringComparison.Ordinal);
        Assert.Contains("INN -> Postern (innxmit -s)", output, StringComparison.Ordinal);
        Assert.Contains("Postern pulled", output, StringComparison.Ordinal);
    }

    private static string FindScript()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "interop", "inn-peering.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("tests/interop/inn-peering.sh not found above " + AppContext.BaseDirectory);
    }
}
