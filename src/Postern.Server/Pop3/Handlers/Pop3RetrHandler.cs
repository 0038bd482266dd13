using System.Buffers;
using System.Globalization;
using Postern.Protocols.Pop3;
using Postern.Server.Connections;

namespace Postern.Server.Pop3.Handlers;

/// <summary>
/// RFC 1939 §5 RETR msg and §7 TOP msg n: the content streams from the store in chunks, dot-stuffed on the
/// fly, with a flush per chunk, so a large message never sits whole in a reply buffer.
/// </summary>
internal static class Pop3RetrHandler
{
    public static async Task<Pop3Flow> HandleAsync(Pop3Session session, Pop3Maildrop maildrop, Pop3Command command, CancellationToken cancellationToken)
    {
        if (Pop3MessageNumbers.Find(session, maildrop, command.MessageNumber ?? 0) is not { } message)
        {
            return Pop3Flow.Continue;
        }

        await EventThread.ToThreadPoolIf(message.Size > EventThread.InlineMessageBytes);
        var stream = await maildrop.OpenContentAsync(message, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            // Expunged by another (IMAP) session since login.
            session.Error(null, $"Message {message.Number} no longer exists");
            return Pop3Flow.Continue;
        }

        await using (stream.ConfigureAwait(false))
        {
            var top = command.Verb == Pop3Verb.Top;
            if (!top)
            {
                ServerMetrics.Pop3.Item();
            }

            session.Ok(top ? "Top of message follows" : string.Create(CultureInfo.InvariantCulture, $"{message.Size} octets"));
            var encoder = new Pop3MessageEncoder(top ? command.LineCount ?? 0 : null);
            var buffer = ArrayPool<byte>.Shared.Rent(session.Options.ChunkSize);
            try
            {
                while (!encoder.IsComplete)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, session.Options.ChunkSize), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    encoder.Write(buffer.AsSpan(0, read), session.Channel.Output);

                    // The last chunk goes out with the terminating line in one write (the session flushes after the command).
                    if (!stream.CanSeek || stream.Position < stream.Length)
                    {
                        await FlushAsync(session, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            encoder.Finish(session.Channel.Output);
        }

        return Pop3Flow.Continue;
    }

    // A client that stops reading must not hold the session (and the maildrop lock) forever.
    private static async Task FlushAsync(Pop3Session session, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(session.IdleTimeout);
        await session.Channel.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
    }
}
