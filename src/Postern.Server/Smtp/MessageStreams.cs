using System.Runtime.InteropServices;

namespace Postern.Server.Smtp;

internal static class MessageStreams
{
    /// <summary>A read-only stream over a message held in memory, without copying it when it lives in an array.</summary>
    public static MemoryStream Open(ReadOnlyMemory<byte> message) =>
        MemoryMarshal.TryGetArray(message, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(message.ToArray(), writable: false);
}
