using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Postern.IntegrationTests.Infrastructure;

/// <summary>
/// The real `postern serve` process, as a user runs it: a temporary data folder, a port offset whose
/// standard ports are free, and the `postern` admin verbs run against it as separate processes.
/// </summary>
public sealed class PosternProcess : IAsyncDisposable
{
    private static readonly int[] StandardPorts = [25, 587, 465, 110, 995, 143, 993, 119, 563, 443, 80];

    // Ports of the offsets handed out in this test run: servers started at the same moment must not share a port. Ports,
    // not offsets: two offsets 300 apart meet on one port (IMAP 143 of the one is HTTPS 443 of the other), and each
    // found that port free before either bound it.
    private static readonly HashSet<int> HandedOutPorts = [];
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private PosternProcess(Process process, string dataDirectory, int portOffset)
    {
        _process = process;
        DataDirectory = dataDirectory;
        PortOffset = portOffset;
    }

    public string DataDirectory { get; }

    public int PortOffset { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public X509Certificate2 Root { get; private set; } = null!;

    public string RootPemPath => Path.Combine(DataDirectory, "test-root.pem");

    public int Port(int standardPort) => standardPort + PortOffset;

    /// <summary>A TLS client's validation callback that trusts this server's organization root and nothing else.</summary>
    public bool ChainsToRoot(object sender, X509Certificate? certificate, X509Chain? chain, System.Net.Security.SslPolicyErrors errors) =>
        TestCertificates.ChainsTo(certificate, Root);

    public static string PosternDll => Path.Combine(AppContext.BaseDirectory, "postern.dll");

    /// <param name="storeOf">Another server's data folder whose store this one shares (PostgreSQL only: several nodes).</param>
    /// <param name="openFilesLimit">Runs the server under this RLIMIT_NOFILE (soft and hard), through util-linux's prlimit.</param>
    public static async Task<PosternProcess> StartAsync(string hostName = "localhost", string? dataDirectory = null, int? portOffset = null, IEnumerable<string>? extraArguments = null, string? storeOf = null,
        int? openFilesLimit = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "postern-it-" + Guid.NewGuid().ToString("N"));
        var offset = portOffset ?? FindFreeOffset();
        var start = new ProcessStartInfo(openFilesLimit is null ? "dotnet" : "prlimit")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (openFilesLimit is { } limit)
        {
            // prlimit sets the limit and then runs dotnet in its own place (the same process).
            start.ArgumentList.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--nofile={limit}:{limit}"));
            start.ArgumentList.Add("dotnet");
        }

        foreach (var arg in new[] { PosternDll, "serve", "--data", dataDirectory, "--port-offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture), "--host-name", hostName, "--password-iterations", "1000" }.Concat(Postern.Tests.TestStoreOptions.ServeArguments(storeOf ?? dataDirectory)).Concat(extraArguments ?? []))
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start postern");
        var server = new PosternProcess(process, dataDirectory, offset);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var admin = Path.Combine(dataDirectory, "admin.json");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(admin) || !server.Log.Contains("Postern is running", StringComparison.Ordinal))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("postern did not start:\n" + server.Log);
            }

            await Task.Delay(100);
        }

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(admin));
        var pem = json.RootElement.GetProperty("rootCertificatePem").GetString()!;
        await File.WriteAllTextAsync(server.RootPemPath, pem);
        server.Root = X509Certificate2.CreateFromPem(pem);
        return server;
    }

    /// <summary>Runs `postern ARGS --data DIR` and returns its exit code and output.</summary>
    public Task<(int ExitCode, string Output, string Error)> CliAsync(string? standardInput, params string[] args) =>
        RunAsync("dotnet", [PosternDll, .. args, "--data", DataDirectory], standardInput);

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string fileName, IEnumerable<string> args, string? standardInput = null, int timeoutSeconds = 60)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + fileName);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool exited without reading its input (openssl crl, say): its exit code and output still tell.
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Adds a user with a unique address through the CLI, as an administrator would.</summary>
    public async Task<string> AddUserAsync(string name, string password)
    {
        var address = $"{name}-{Guid.NewGuid().ToString("N")[..8]}@example.test";
        var added = await CliAsync(password + "\n", "user", "add", address, "--password-stdin");
        Assert.True(added.ExitCode == 0, added.Error);
        return address;
    }

    /// <summary>Submits a message from <paramref name="user"/> to itself over 587 with STARTTLS and AUTH, as a mail client does.</summary>
    public async Task SubmitToSelfAsync(string user, string password, string subject, string text)
    {
        using var smtp = new MailKit.Net.Smtp.SmtpClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = ChainsToRoot };
        await smtp.ConnectAsync("127.0.0.1", Port(587), MailKit.Security.SecureSocketOptions.StartTls);
        await smtp.AuthenticateAsync(user, password);
        var message = new MimeKit.MimeMessage();
        message.From.Add(MimeKit.MailboxAddress.Parse(user));
        message.To.Add(MimeKit.MailboxAddress.Parse(user));
        message.Subject = subject;
        message.Body = new MimeKit.TextPart("plain") { Text = text };
        await smtp.SendAsync(message);
        await smtp.DisconnectAsync(true);
    }

    /// <summary>`postern ca export` into a fresh file; returns its path.</summary>
    public async Task<string> ExportRootAsync()
    {
        var file = Path.Combine(DataDirectory, $"ca-{Guid.NewGuid():N}.pem");
        var export = await CliAsync(null, "ca", "export", "--out", file);
        Assert.True(export.ExitCode == 0, export.Error);
        return file;
    }

    public bool IsRunning => !_process.HasExited;

    /// <summary>The server's process id (prlimit, given an open-files limit, runs dotnet in its own place).</summary>
    public int ProcessId => _process.Id;

    /// <summary>SIGKILL, so no shutdown code runs (for the "nothing acknowledged is lost" tests), and wait until the
    /// process is gone: its listening sockets close only then, and a restart on the same ports must not race them.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Postern.Tests.TestStoreOptions.Drop(DataDirectory);
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    /// <summary>A port offset no other test has been handed and whose standard ports are free now.</summary>
    public static int FindFreeOffset()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            // Below Linux's ephemeral range (32768 and up), where the local port of any client connection in the test run
            // could take a server's port between this check and its bind (or a virtual server a test adds at offset + 1153).
            var offset = Random.Shared.Next(20, 315) * 100;
            if (!StandardPorts.All(p => IsFree(p + offset)))
            {
                continue;
            }

            lock (HandedOutPorts)
            {
                if (StandardPorts.All(p => !HandedOutPorts.Contains(p + offset)))
                {
                    HandedOutPorts.UnionWith(StandardPorts.Select(p => p + offset));
                    return offset;
                }
            }
        }

        throw new InvalidOperationException("no free port range");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>One `postern serve` shared by a test class.</summary>
public sealed class PosternProcessFixture : IAsyncLifetime
{
    public PosternProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PosternProcess.StartAsync("mail.example.test");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
