using System.Buffers;

namespace Postern.Server.Connections;

/// <summary>
/// The memory every session together may hold for messages on their way in. A message is held whole until it is on
/// stable storage, so without a shared bound N clients sending at the size limit would take N × 50 MiB (2,000 port-25
/// connections: 100 GB). A message that would pass the bound is read to its end, not kept, and refused with a
/// temporary error: the sending server tries again later, as it does when Postfix's queue disk is full.
/// </summary>
public sealed class MessageMemoryBudget(long capacityBytes)
{
    public const long DefaultCapacityBytes = 512L * 1024 * 1024;

    private long _used;

    public long CapacityBytes { get; } = capacityBytes;

    public long UsedBytes => Interlocked.Read(ref _used);

    public bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= CapacityBytes)
        {
            return true;
        }

        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}

/// <summary>
/// One message held while it arrives, its growth reserved from the shared <see cref="MessageMemoryBudget"/>. Once the
/// budget refuses, the rest of the message is counted by the writer that fills this buffer but not kept, and
/// <see cref="OverBudget"/> says so.
/// </summary>
public sealed class BudgetedMessageBuffer(MessageMemoryBudget budget) : IBufferWriter<byte>
{
    // Reserved in steps, so the shared counter is touched once per 64 KiB, not per write.
    private const int ReserveStep = 64 * 1024;

    // A buffer grown past this is dropped when the message is done, not kept for the rest of the session.
    private const int KeptCapacity = 1024 * 1024;

    private ArrayBufferWriter<byte> _buffer = new(16 * 1024);
    private byte[] _discard = [];
    private long _reserved;

    /// <summary>The budget refused to hold more: what came after was not kept.</summary>
    public bool OverBudget { get; private set; }

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public int WrittenCount => _buffer.WrittenCount;

    public int Capacity => _buffer.Capacity;

    public void Advance(int count)
    {
        if (!OverBudget)
        {
            _buffer.Advance(count);
        }
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (!OverBudget && Reserve(_buffer.WrittenCount + (long)Math.Max(sizeHint, 1)))
        {
            // No more room than is reserved: a grown buffer offers up to its whole capacity.
            var memory = _buffer.GetMemory(sizeHint);
            return memory[..(int)Math.Min(memory.Length, _reserved - _buffer.WrittenCount)];
        }

        if (_discard.Length < Math.Max(sizeHint, 4096))
        {
            _discard = new byte[Math.Max(sizeHint, 4096)];
        }

        return _discard;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>Empties the buffer for the next message and gives its reservation back.</summary>
    public void Reset()
    {
        budget.Release(_reserved);
        _reserved = 0;
        OverBudget = false;
        _discard = [];
        if (_buffer.Capacity > KeptCapacity)
        {
            // Clear would keep the capacity: one message near the limit and then NOOPs would hold 64 MiB per connection.
            _buffer = new ArrayBufferWriter<byte>(16 * 1024);
        }

        _buffer.ResetWrittenCount();
    }

    private bool Reserve(long needed)
    {
        while (needed > _reserved)
        {
            if (!budget.TryReserve(ReserveStep))
            {
                OverBudget = true;
                return false;
            }

            _reserved += ReserveStep;
        }

        return true;
    }
}
