using System.Text;

namespace Postern.IntegrationTests.Imap;

/// <summary>
/// MailKit 4.18 recognises IMAP4rev2 but has no call that sends <c>ENABLE IMAP4rev2</c>. This stream sits between MailKit and
/// the socket: before MailKit's first command after login (NAMESPACE) it sends <c>R2 ENABLE IMAP4rev2</c> itself and hides
/// that command's two response lines, so MailKit then talks to a rev2 session and must cope with its responses.
/// </summary>
internal sealed class Rev2EnablingStream(Stream inner) : Stream
{
    private readonly MemoryStream _pending = new();
    private readonly List<byte> _line = [];
    private bool _injected;
    private bool _hiding;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_injected && Encoding.ASCII.GetString(buffer.Span).Contains(" NAMESPACE\r\n", StringComparison.Ordinal))
        {
            _injected = true;
            _hiding = true;
            await inner.WriteAsync("R2 ENABLE IMAP4rev2\r\n"u8.ToArray(), cancellationToken);
        }

        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_pending.Position == _pending.Length)
        {
            _pending.SetLength(0);
            var chunk = new byte[4096];
            var read = await inner.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                return 0;
            }

            if (!_hiding)
            {
                _pending.Write(chunk, 0, read);
            }
            else
            {
                Filter(chunk.AsSpan(0, read));
            }

            _pending.Position = 0;
        }

        return _pending.Read(buffer.Span);
    }

    /// <summary>Drops "* ENABLED IMAP4rev2" and "R2 ..." lines while the injected command is outstanding.</summary>
    private void Filter(ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            if (!_hiding)
            {
                _pending.Write(data[i..]);
                return;
            }

            _line.Add(data[i]);
            if (data[i] != '\n')
            {
                continue;
            }

            var text = Encoding.UTF8.GetString([.. _line]);
            _line.Clear();
            if (text.StartsWith("R2 ", StringComparison.Ordinal))
            {
                Assert.StartsWith("R2 OK", text, StringComparison.Ordinal);
                _hiding = false;
            }
            else if (text.StartsWith("* ENABLED", StringComparison.Ordinal))
            {
                Assert.Equal("* ENABLED IMAP4rev2\r\n", text);
            }
            else
            {
                _pending.Write(Encoding.UTF8.GetBytes(text));
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _pending.Dispose();
        }

        base.Dispose(disposing);
    }
}
