using System.Diagnostics;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Pop3;

/// <summary>Real command-line clients: curl (STLS and pop3s) and Python's poplib, when installed.</summary>
public sealed class Pop3CommandLineClientTests
{
    private const string Alice = "alice@example.test";

    [Fact]
    public async Task CurlRetrievesOverStlsAndImplicitTls()
    {
        if (!OnPath("curl"))
        {
            return;
        }

        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1, "Fetched by curl."));
        var root = Path.Combine(server.Server.DataDirectory, "root.pem");
        await File.WriteAllTextAsync(root, TestCertificates.Shared.Root.ExportCertificatePem());

        var stls = await RunAsync("curl", "-sS", "--max-time", "30", "--ssl-reqd", $"pop3://127.0.0.1:{server.StartTlsPort}/1", "-u", $"{Alice}:{Pop3TestServer.Password}", "--cacert", root);
        Assert.True(stls.ExitCode == 0, stls.Error);
        Assert.Contains("Subject: Message 1", stls.Output, StringComparison.Ordinal);
        Assert.Contains("Fetched by curl.", stls.Output, StringComparison.Ordinal);
        await server.WaitForLocksReleasedAsync();

        var implicitTls = await RunAsync("curl", "-sS", "--max-time", "30", $"pop3s://127.0.0.1:{server.ImplicitTlsPort}/1", "-u", $"{Alice}:{Pop3TestServer.Password}", "--cacert", root);
        Assert.True(implicitTls.ExitCode == 0, implicitTls.Error);
        Assert.Contains("Fetched by curl.", implicitTls.Output, StringComparison.Ordinal);
        await server.WaitForLocksReleasedAsync();

        // Without a path curl LISTs.
        var list = await RunAsync("curl", "-sS", "--max-time", "30", $"pop3s://127.0.0.1:{server.ImplicitTlsPort}/", "-u", $"{Alice}:{Pop3TestServer.Password}", "--cacert", root);
        Assert.True(list.ExitCode == 0, list.Error);
        Assert.StartsWith("1 ", list.Output, StringComparison.Ordinal);
        await server.WaitForLocksReleasedAsync();

        // A wrong password is a login failure (curl exit 67), and the secure-channel server refuses before STLS.
        var wrong = await RunAsync("curl", "-sS", "--max-time", "30", $"pop3s://127.0.0.1:{server.ImplicitTlsPort}/1", "-u", $"{Alice}:wrong", "--cacert", root);
        Assert.Equal(67, wrong.ExitCode);
        var clear = await RunAsync("curl", "-sS", "--max-time", "30", $"pop3://127.0.0.1:{server.SecureChannelPort}/1", "-u", $"{Alice}:{Pop3TestServer.Password}");
        Assert.NotEqual(0, clear.ExitCode);
        Assert.Equal(1, await server.CountAsync(alice));
    }

    [Fact]
    public async Task PythonPoplibOverStlsAndImplicitTls()
    {
        if (!OnPath("python3"))
        {
            return;
        }

        await using var server = await Pop3TestServer.StartAsync();
        var alice = await server.AddUserAsync(Alice);
        await server.DeliverAsync(alice, Pop3TestServer.Message(1, "Fetched by poplib."));
        await server.DeliverAsync(alice, Pop3TestServer.Message(2));
        var root = Path.Combine(server.Server.DataDirectory, "root.pem");
        await File.WriteAllTextAsync(root, TestCertificates.Shared.Root.ExportCertificatePem());
        var script = Path.Combine(server.Server.DataDirectory, "pop.py");
        await File.WriteAllTextAsync(script, """
            import poplib, ssl, sys
            host, stls_port, tls_port, cafile, user, password = sys.argv[1:7]
            context = ssl.create_default_context(cafile=cafile)
            p = poplib.POP3(host, int(stls_port), timeout=20)
            caps = p.capa()
            assert 'STLS' in caps, caps
            p.stls(context=context)
            p.user(user)
            p.pass_(password)
            count, size = p.stat()
            assert count == 2, count
            lines = p.retr(1)[1]
            assert b'Fetched by poplib.' in lines, lines
            uids = p.uidl()[1]
            p.dele(2)
            p.quit()
            q = poplib.POP3_SSL(host, int(tls_port), context=context, timeout=20)
            q.user(user)
            q.pass_(password)
            assert q.stat()[0] == 1
            assert q.uidl()[1] == uids[:1], (q.uidl()[1], uids)
            top = q.top(1, 0)[1]
            assert b'Subject: Message 1' in top and b'Fetched by poplib.' not in top, top
            q.quit()
            print('ok')
            """);

        var run = await RunAsync("python3", script, "127.0.0.1", server.StartTlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            server.ImplicitTlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), root, Alice, Pop3TestServer.Password);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Equal("ok", run.Output.Trim());
        Assert.Equal(1, await server.CountAsync(alice));
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, program)));

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
