using System.IO.Compression;
using System.IO.Pipelines;
using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 4978 COMPRESS=DEFLATE: raw DEFLATE (RFC 1951) both ways from the octet after the tagged OK.</summary>
internal sealed class Compress : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseCompress(command.GetReader(), out var algorithm) || algorithm != "DEFLATE")
        {
            session.BadArguments(command, "Only COMPRESS DEFLATE is supported");
            return;
        }

        if (session.CompressionActive)
        {
            session.No(command, "Compression is already active", "COMPRESSIONACTIVE");
            return;
        }

        await session.CompleteAsync(command, ImapStatus.Ok, "DEFLATE active", cancellationToken: cancellationToken);
        await session.FlushAsync(cancellationToken);

        // The client may send compressed data only after our OK; anything already queued would be a protocol error.
        if (session.HasBufferedInput())
        {
            session.EnterLogout();
            return;
        }

        var transport = session.Connection.TransportStream;
        var inflate = new DeflateStream(transport, CompressionMode.Decompress, leaveOpen: true);
        var deflate = new DeflateStream(transport, CompressionLevel.Fastest, leaveOpen: true);
        session.Connection.ReplaceTransport(
            PipeReader.Create(inflate, new StreamPipeReaderOptions(bufferSize: 16384, minimumReadSize: 2048)),
            PipeWriter.Create(deflate));
        session.CompressionActive = true;
    }
}
