using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Postern.Protocols;

namespace Postern.Server.Connections;

public enum LineResultKind
{
    Line = 0,
    TooLong = 1,
    Timeout = 2,
    Closed = 3,
}

public readonly record struct LineResult(LineResultKind Kind, byte[] Bytes)
{
    public string Text => Encoding.UTF8.GetString(Bytes);
}

/// <summary>
/// Line-oriented reading and buffered writing for the text protocols (SMTP, POP3, NNTP, and IMAP's command lines).
/// Replies are buffered and flushed only when the client has nothing more queued (RFC 2920 pipelining)
/// or before the session waits for input.
/// </summary>
public sealed class LineChannel(MailConnection connection)
{
    private bool _discardingLongLine;

    public MailConnection Connection => connection;

    public PipeReader Input => connection.Input;

    public PipeWriter Output => connection.Output;

    public async ValueTask<LineResult> ReadLineAsync(int maxLength, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var waited = false;
        while (true)
        {
            var input = connection.Input;
            if (!input.TryRead(out var result))
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var read = input.ReadAsync(timeoutSource.Token);
                    waited |= !read.IsCompleted;
                    result = await read.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return new LineResult(LineResultKind.Timeout, []);
                }
            }

            var buffer = result.Buffer;
            if (_discardingLongLine)
            {
                var lf = buffer.PositionOf((byte)'\n');
                if (lf is null)
                {
                    input.AdvanceTo(buffer.End);
                    if (result.IsCompleted)
                    {
                        return new LineResult(LineResultKind.Closed, []);
                    }

                    continue;
                }

                buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
                _discardingLongLine = false;
            }

            var status = LineReader.TryReadLine(ref buffer, maxLength, out var line);
            switch (status)
            {
                case LineReadStatus.Line:
                    var bytes = line.ToArray();
                    input.AdvanceTo(buffer.Start);
                    if (connection.MustLeaveEventThread(waited))
                    {
                        await EventThread.ToThreadPool();
                    }

                    return new LineResult(LineResultKind.Line, bytes);
                case LineReadStatus.TooLong:
                    // If the terminator was not yet seen, keep discarding up to it.
                    _discardingLongLine = buffer.IsEmpty && !EndsWithLf(result.Buffer);
                    input.AdvanceTo(buffer.Start);
                    return new LineResult(LineResultKind.TooLong, []);
                default:
                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        return new LineResult(LineResultKind.Closed, []);
                    }

                    break;
            }
        }
    }

    /// <summary>True when the client has already sent more bytes than were consumed (pipelined input).</summary>
    public bool HasBufferedInput()
    {
        if (connection.Input.TryRead(out var result))
        {
            var any = !result.Buffer.IsEmpty;
            connection.Input.AdvanceTo(result.Buffer.Start);
            return any;
        }

        return false;
    }

    public void Write(string text)
    {
        var count = Encoding.UTF8.GetByteCount(text);
        var span = connection.Output.GetSpan(count);
        Encoding.UTF8.GetBytes(text, span);
        connection.Output.Advance(count);
    }

    public void WriteLine(string text)
    {
        Write(text);
        Write("\r\n");
    }

    public void Write(ReadOnlySpan<byte> bytes) => connection.Output.Write(bytes);

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var output = connection.Output;
        if (output.UnflushedBytes > 0 || !output.CanGetUnflushedBytes)
        {
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool EndsWithLf(ReadOnlySequence<byte> buffer) => !buffer.IsEmpty && buffer.Slice(buffer.Length - 1).FirstSpan[0] == (byte)'\n';
}
