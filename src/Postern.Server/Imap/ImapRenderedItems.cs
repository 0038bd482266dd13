using System.Buffers;
using System.Runtime.CompilerServices;
using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>
/// ENVELOPE, BODY and BODYSTRUCTURE as written for one stored content, so that a client listing a mailbox again gets them
/// without the message being read and parsed again (Dovecot's index cache does the same). A content's octets never
/// change and its blob ID is never reused (a message's copies share it), so an entry can never be stale. Memory is
/// bounded by two generations: when the young one is full it becomes the old one and the old one is dropped.
/// </summary>
internal sealed class ImapRenderedItems
{
    /// <summary>About 40,000 messages' envelopes and body structures; fixed, as it holds only what the server computed.</summary>
    public const long DefaultCapacityBytes = 32L * 1024 * 1024;

    // What an entry costs beyond its octets (dictionary slot, array header, key).
    private const int EntryOverhead = 64;

    private static readonly ConditionalWeakTable<IPosternStore, ImapRenderedItems> PerStore = [];

    private readonly Lock _lock = new();
    private readonly long _generationBytes;
    private Dictionary<RenderedKey, byte[]> _young = [];
    private Dictionary<RenderedKey, byte[]> _old = [];
    private long _youngBytes;

    public ImapRenderedItems(long capacityBytes = DefaultCapacityBytes) => _generationBytes = Math.Max(1, capacityBytes / 2);

    /// <summary>The cache of one store (one server): blob IDs mean nothing across stores.</summary>
    public static ImapRenderedItems For(IPosternStore store) => PerStore.GetValue(store, _ => new ImapRenderedItems());

    /// <summary>Whether the item is one this cache keeps: a value computed from the whole content that never changes.</summary>
    public static bool Keeps(ImapFetchItemKind kind) => kind is ImapFetchItemKind.Envelope or ImapFetchItemKind.Body or ImapFetchItemKind.BodyStructure;

    public byte[]? TryGet(long blobId, ImapFetchItemKind kind, bool utf8)
    {
        var key = new RenderedKey(blobId, kind, utf8);
        lock (_lock)
        {
            if (_young.TryGetValue(key, out var value))
            {
                return value;
            }

            if (_old.Remove(key, out value))
            {
                AddYoung(key, value);
                return value;
            }

            return null;
        }
    }

    /// <summary>
    /// Writes the item for the content with <paramref name="render"/> (which writes one value with a writer of its own,
    /// as <see cref="ImapResponseWriter"/> would have), keeps it and returns its octets.
    /// </summary>
    public byte[] Render(long blobId, ImapFetchItemKind kind, bool utf8, Action<ImapResponseWriter> render)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        render(new ImapResponseWriter(buffer, utf8));
        var value = buffer.WrittenSpan.ToArray();
        lock (_lock)
        {
            AddYoung(new RenderedKey(blobId, kind, utf8), value);
        }

        return value;
    }

    private void AddYoung(RenderedKey key, byte[] value)
    {
        if (_youngBytes >= _generationBytes)
        {
            _old = _young;
            _young = [];
            _youngBytes = 0;
        }

        if (_young.TryAdd(key, value))
        {
            _youngBytes += value.Length + EntryOverhead;
        }
    }

    private readonly record struct RenderedKey(long BlobId, ImapFetchItemKind Kind, bool Utf8);
}
