using System.Buffers;
using BenchmarkDotNet.Attributes;
using Postern.Protocols.Pop3;

namespace Postern.Bench.Micro;

/// <summary>
/// POP3 grammar in isolation: command parsing and the RETR encoder (dot-stuffing, CRLF) over a 64 KB message.
/// Run with: Postern.Bench micro --filter *Pop3*
/// </summary>
[MemoryDiagnoser]
public class Pop3Benchmarks
{
    private static readonly byte[] s_retr = "RETR 12345"u8.ToArray();
    private static readonly byte[] s_pass = "PASS correct horse battery staple"u8.ToArray();
    private static readonly byte[] s_top = "TOP 17 10"u8.ToArray();
    private byte[] _message = [];
    private ArrayBufferWriter<byte> _output = new();

    [GlobalSetup]
    public void Setup()
    {
        _message = MessageFactory.Create(64, "a@example.test", "b@example.test", null, 1);
        _output = new ArrayBufferWriter<byte>(_message.Length + 4096);
    }

    [Benchmark]
    public bool ParseRetr() => Pop3CommandParser.TryParse(s_retr, out _, out _);

    [Benchmark]
    public bool ParsePass() => Pop3CommandParser.TryParse(s_pass, out _, out _);

    [Benchmark]
    public bool ParseTop() => Pop3CommandParser.TryParse(s_top, out _, out _);

    /// <summary>RETR of 64 KB in 16 KB chunks, as the session streams it.</summary>
    [Benchmark]
    public int EncodeRetr64K()
    {
        _output.ResetWrittenCount();
        var encoder = new Pop3MessageEncoder();
        for (var offset = 0; offset < _message.Length; offset += 16384)
        {
            encoder.Write(_message.AsSpan(offset, Math.Min(16384, _message.Length - offset)), _output);
        }

        encoder.Finish(_output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int EncodeTop10()
    {
        _output.ResetWrittenCount();
        var encoder = new Pop3MessageEncoder(10);
        encoder.Write(_message, _output);
        encoder.Finish(_output);
        return _output.WrittenCount;
    }

    /// <summary>Keeps the reply writer honest too: a scan listing line.</summary>
    [Benchmark]
    public int WriteScanLine()
    {
        _output.ResetWrittenCount();
        Pop3ReplyWriter.WriteScanLine(_output, 12345, 65536);
        return _output.WrittenCount;
    }
}
