using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 2177: report changes as they happen until the client sends DONE.</summary>
internal sealed class Idle : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        var selected = session.Selected;
        var input = session.Connection.Input;

        // A change wakes the pending read, which then reports the updates.
        void OnChanged() => input.CancelPendingRead();
        if (selected is not null)
        {
            selected.Changed += OnChanged;
        }

        try
        {
            if (selected is not null)
            {
                await selected.SyncAsync(session, allowExpunge: true, cancellationToken);
            }

            session.Writer.Continuation("idling");
            await session.FlushAsync(cancellationToken);
            var line = await ReadDoneAsync(session, selected, cancellationToken);
            if (line is null)
            {
                session.Writer.Untagged(ImapStatus.Bye, null, "Autologout; idle for too long");
                session.EnterLogout();
                return;
            }

            if (!line.Equals("DONE", StringComparison.OrdinalIgnoreCase))
            {
                session.BadArguments(command, "Expected DONE");
                return;
            }

            await session.OkAsync(command, "IDLE terminated", cancellationToken);
        }
        finally
        {
            if (selected is not null)
            {
                selected.Changed -= OnChanged;
            }
        }
    }

    private static async Task<string?> ReadDoneAsync(ImapSession session, ImapSelectedMailbox? selected, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(session.IdleTimeout);
        var reader = new IdleLineReader(session);
        while (true)
        {
            var input = session.Connection.Input;
            System.IO.Pipelines.ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }

            if (result.IsCanceled)
            {
                // Woken by a change: tell the client now (RFC 2177).
                input.AdvanceTo(result.Buffer.Start);
                if (selected is not null)
                {
                    await selected.SyncAsync(session, allowExpunge: true, cancellationToken);
                    await session.FlushAsync(cancellationToken);
                }

                continue;
            }

            var buffer = result.Buffer;
            var line = reader.TryRead(ref buffer);
            input.AdvanceTo(buffer.Start);
            if (line is not null)
            {
                return line;
            }

            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads the DONE line through the session's own command reader (so its buffering stays consistent).</summary>
    private sealed class IdleLineReader(ImapSession session)
    {
        public string? TryRead(ref System.Buffers.ReadOnlySequence<byte> buffer)
        {
            var read = session.ReadRawLine(ref buffer);
            return read.Status == ImapReadStatus.Line ? read.Line : read.Status == ImapReadStatus.NeedMoreData ? null : string.Empty;
        }
    }
}
