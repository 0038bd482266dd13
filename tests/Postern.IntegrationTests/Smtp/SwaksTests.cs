using System.Diagnostics;
using System.Text;
using Postern.Store;
using static Postern.IntegrationTests.Smtp.SmtpTestServer;

namespace Postern.IntegrationTests.Smtp;

/// <summary>swaks, the SMTP swiss army knife, as an independent client (apt-get install -y swaks).</summary>
public sealed class SwaksTests
{
    private static async Task<(int ExitCode, string Output)> SwaksAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("swaks") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("swaks did not start");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("swaks is not installed (apt-get install -y swaks)");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }

    [Fact]
    public async Task SwaksDeliversOverStartTlsToALocalUser()
    {
        await using var server = await StartAsync();
        var (exit, output) = await SwaksAsync(
            "--server", "127.0.0.1", "--port", server.PortOf(Inbound, BindingMode.StartTls).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--from", "sender@outside.test", "--to", "bob@example.test", "--tls", "--header", "Subject: via swaks", "--body", "swaks body");
        Assert.True(exit == 0, output);
        Assert.Contains("250-PIPELINING", output);
        var stored = Encoding.UTF8.GetString(Assert.Single(await InboxAsync(server, "bob@example.test")));
        Assert.Contains("with ESMTPS id", stored);
        Assert.Contains("Subject: via swaks", stored);
        Assert.Contains("swaks body", stored);
    }

    [Fact]
    public async Task SwaksSubmitsWithAuthPlainOverImplicitTlsAndLoginOverStartTls()
    {
        await using var server = await StartAsync();
        var (exit, output) = await SwaksAsync(
            "--server", "127.0.0.1", "--port", server.PortOf(Submission, BindingMode.ImplicitTls).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tlsc", "--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", Password,
            "--from", "alice@example.test", "--to", "bob@example.test");
        Assert.True(exit == 0, output);
        Assert.Contains("235 2.7.0", output);

        (exit, output) = await SwaksAsync(
            "--server", "127.0.0.1", "--port", server.PortOf(Submission, BindingMode.StartTls).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tls", "--auth", "LOGIN", "--auth-user", "alice@example.test", "--auth-password", Password,
            "--from", "alice@example.test", "--to", "bob@example.test");
        Assert.True(exit == 0, output);
        Assert.Equal(2, (await InboxAsync(server, "bob@example.test")).Count);
    }

    [Fact]
    public async Task SwaksSeesAuthRefusedWithoutTls()
    {
        await using var server = await StartAsync();
        var (exit, output) = await SwaksAsync(
            "--server", "127.0.0.1", "--port", server.PortOf(Submission, BindingMode.StartTls).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", Password,
            "--from", "alice@example.test", "--to", "bob@example.test");
        Assert.NotEqual(0, exit);
        Assert.Empty(await InboxAsync(server, "bob@example.test"));
    }
}
