using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Postern.Tests;

/// <summary>
/// A DNS server on a UDP port of 127.0.0.1 that answers from a table (RFC 1035 §4): enough for DnsClient to resolve MX,
/// A and TXT records in tests, where the machine's resolver knows no test domain. Records can be added while it serves.
/// </summary>
internal sealed class FakeDnsServer : IAsyncDisposable
{
    public const ushort A = 1;
    public const ushort Mx = 15;
    public const ushort Txt = 16;

    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly Dictionary<(string Name, ushort Type), List<byte[]>> _answers = [];
    private readonly Dictionary<string, byte> _errors = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public FakeDnsServer()
    {
        _loop = Task.Run(LoopAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.Client.LocalEndPoint!;

    /// <summary>A DnsClient resolver that asks this server only, without a cache, so records added later are seen.</summary>
    public DnsClient.LookupClient CreateClient() =>
        new(new DnsClient.LookupClientOptions(new DnsClient.NameServer(EndPoint)) { UseCache = false, Timeout = TimeSpan.FromSeconds(3), Retries = 0 });

    public FakeDnsServer AddMx(string domain, ushort preference, string exchange)
    {
        var data = new List<byte>();
        data.AddRange([(byte)(preference >> 8), (byte)preference]);
        data.AddRange(EncodeName(exchange));
        return Add(domain, Mx, [.. data]);
    }

    public FakeDnsServer AddA(string name, IPAddress address) => Add(name, A, address.GetAddressBytes());

    /// <summary>A TXT record; text longer than 255 octets goes in several strings, as a zone file splits it (RFC 1035 §3.3.14).</summary>
    public FakeDnsServer AddTxt(string name, string text)
    {
        var data = new List<byte>();
        foreach (var part in Encoding.ASCII.GetBytes(text).Chunk(255))
        {
            data.Add((byte)part.Length);
            data.AddRange(part);
        }

        return Add(name, Txt, [.. data]);
    }

    /// <summary>Answers every question about <paramref name="name"/> with an error code (3: NXDOMAIN, 2: SERVFAIL).</summary>
    public FakeDnsServer Fail(string name, byte responseCode)
    {
        lock (_answers)
        {
            _errors[name] = responseCode;
        }

        return this;
    }

    /// <summary>Takes away every record of one type at <paramref name="name"/>, as a zone edit would.</summary>
    public FakeDnsServer Remove(string name, ushort type)
    {
        lock (_answers)
        {
            _answers.Remove((name.TrimEnd('.').ToLowerInvariant(), type));
        }

        return this;
    }

    private FakeDnsServer Add(string name, ushort type, byte[] data)
    {
        var key = (name.TrimEnd('.').ToLowerInvariant(), type);
        lock (_answers)
        {
            if (!_answers.TryGetValue(key, out var list))
            {
                _answers[key] = list = [];
            }

            list.Add(data);
        }

        return this;
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult request;
            try
            {
                request = await _socket.ReceiveAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (Answer(request.Buffer) is { } response)
            {
                await _socket.SendAsync(response, request.RemoteEndPoint);
            }
        }
    }

    private byte[]? Answer(byte[] query)
    {
        lock (_answers)
        {
            return AnswerLocked(query);
        }
    }

    private byte[]? AnswerLocked(byte[] query)
    {
        if (query.Length < 12)
        {
            return null;
        }

        // The question: QNAME labels, QTYPE, QCLASS after the 12-octet header.
        var offset = 12;
        var labels = new List<string>();
        while (offset < query.Length && query[offset] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(query, offset + 1, query[offset]));
            offset += query[offset] + 1;
        }

        var questionEnd = offset + 5;
        if (questionEnd > query.Length)
        {
            return null;
        }

        var name = string.Join('.', labels).ToLowerInvariant();
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(offset + 1));
        var code = _errors.TryGetValue(name, out var error) ? error : (byte)0;
        var answers = code == 0 && _answers.TryGetValue((name, type), out var found) ? found : [];
        if (code == 0 && answers.Count == 0 && !_answers.Keys.Any(k => k.Name == name))
        {
            code = 3;
        }

        var response = new List<byte>();
        response.AddRange(query.AsSpan(0, 2).ToArray());
        response.AddRange([(byte)(0x84 | (query[2] & 0x01)), (byte)(0x80 | code)]); // QR, AA, RD as asked; RA, RCODE
        response.AddRange([0, 1, (byte)(answers.Count >> 8), (byte)answers.Count, 0, 0, 0, 0]);
        response.AddRange(query.AsSpan(12, questionEnd - 12).ToArray());
        foreach (var data in answers)
        {
            response.AddRange([0xC0, 12, (byte)(type >> 8), (byte)type, 0, 1, 0, 0, 0, 60, (byte)(data.Length >> 8), (byte)data.Length]);
            response.AddRange(data);
        }

        return [.. response];
    }

    private static byte[] EncodeName(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }
}
