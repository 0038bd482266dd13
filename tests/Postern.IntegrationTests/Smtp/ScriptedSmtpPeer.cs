using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Postern.IntegrationTests.Smtp;

/// <summary>
/// A plain-text remote MTA for outbound tests: offers only the EHLO extensions given, answers each RCPT as the
/// script says, and records every command and every message it accepted (no STARTTLS).
/// </summary>
internal sealed class ScriptedSmtpPeer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string[] _extensions;
    private readonly Func<string, int, string> _rcptReply;

    /// <param name="rcptReply">The reply to RCPT for an address, given how many RCPTs this transaction had before it.</param>
    public ScriptedSmtpPeer(string[] extensions, Func<string, int, string>? rcptReply = null)
    {
        _extensions = extensions;
        _rcptReply = rcptReply ?? ((_, _) => "250 2.1.5 ok");
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<string> Commands { get; } = new();

    /// <summary>Each accepted message: its RCPTs accepted in that transaction, and its content as received.</summary>
    public ConcurrentQueue<(IReadOnlyList<string> Recipients, byte[] Data)> Messages { get; } = new();

    private int _connections;

    /// <summary>The reply to MAIL FROM; RCPT then gets 503 unless it is a 2xx.</summary>
    public string MailReply { get; set; } = "250 2.1.0 ok";

    /// <summary>The reply after the message's final dot.</summary>
    public string DataReply { get; set; } = "250 2.0.0 queued as PEER1";

    /// <summary>Whether to drop the connection in the middle of the message's data, after its first line.</summary>
    public bool DropInData { get; set; }

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.Latin1);
        async Task ReplyAsync(string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text + "\r\n"));
        try
        {
            await ReplyAsync("220 peer.test ESMTP");
            var accepted = new List<string>();
            var rcpts = 0;
            var mail = false;
            while (await reader.ReadLineAsync() is { } line)
            {
                Commands.Enqueue(line);
                var verb = line.Split(' ', ':')[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        var lines = new[] { "peer.test" }.Concat(_extensions).ToArray();
                        for (var i = 0; i < lines.Length; i++)
                        {
                            await ReplyAsync((i == lines.Length - 1 ? "250 " : "250-") + lines[i]);
                        }

                        break;
                    case "MAIL":
                        accepted.Clear();
                        rcpts = 0;
                        mail = MailReply.StartsWith('2');
                        await ReplyAsync(MailReply);
                        break;
                    case "RCPT":
                        var address = line[(line.IndexOf('<') + 1)..line.IndexOf('>')];
                        var reply = mail ? _rcptReply(address, rcpts++) : "503 5.5.1 need MAIL first";
                        if (reply.StartsWith('2'))
                        {
                            accepted.Add(address);
                        }

                        await ReplyAsync(reply);
                        break;
                    case "DATA":
                        await ReplyAsync("354 go ahead");
                        if (DropInData)
                        {
                            await reader.ReadLineAsync();
                            return;
                        }

                        var data = new MemoryStream();
                        while (await reader.ReadLineAsync() is { } dataLine && dataLine != ".")
                        {
                            data.Write(Encoding.Latin1.GetBytes(dataLine + "\r\n"));
                        }

                        if (DataReply.StartsWith('2'))
                        {
                            Messages.Enqueue(([.. accepted], data.ToArray()));
                        }

                        await ReplyAsync(DataReply);
                        break;
                    case "RSET":
                        accepted.Clear();
                        rcpts = 0;
                        await ReplyAsync("250 2.0.0 ok");
                        break;
                    case "QUIT":
                        await ReplyAsync("221 2.0.0 bye");
                        return;
                    default:
                        await ReplyAsync("502 5.5.1 not implemented");
                        break;
                }
            }
        }
        catch (IOException)
        {
            // The client went away.
        }
    }

    public void Dispose() => _listener.Stop();
}

/// <summary>A next hop that accepts connections and never greets: each attempt on it lasts the client's whole timeout.</summary>
internal sealed class SilentPeer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentBag<TcpClient> _held = [];
    private readonly TaskCompletionSource _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SilentPeer()
    {
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Completes once the first connection is held.</summary>
    public Task Accepted => _accepted.Task;

    public int Connections => _held.Count;

    public void Dispose()
    {
        _listener.Stop();
        foreach (var client in _held)
        {
            client.Dispose();
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            try
            {
                _held.Add(await _listener.AcceptTcpClientAsync());
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            _accepted.TrySetResult();
        }
    }
}
