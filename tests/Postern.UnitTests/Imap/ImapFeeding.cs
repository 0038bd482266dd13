using System.Buffers;
using System.Text;
using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

/// <summary>Feeds bytes to a reader the way a pipe would: in chunks, keeping what was not consumed.</summary>
internal static class ImapFeeding
{
    public const string Whole = "whole";
    public const string ByteByByte = "byte-by-byte";
    public const string Random1 = "random-1";
    public const string Random2 = "random-2";
    public const string Random3 = "random-3";

    public static TheoryData<string> Modes => new() { Whole, ByteByByte, Random1, Random2, Random3 };

    public static IEnumerable<int> Chunks(string mode, int length)
    {
        switch (mode)
        {
            case Whole:
                yield return length;
                yield break;
            case ByteByByte:
                for (var i = 0; i < length; i++)
                {
                    yield return 1;
                }

                yield break;
            default:
                // Deterministic per mode and length, so a failure reproduces (string hash codes are randomised per process).
                var random = new Random(((mode[^1] - '0') * 7919) + length);
                var left = length;
                while (left > 0)
                {
                    var n = Math.Min(left, random.Next(1, 17));
                    yield return n;
                    left -= n;
                }

                yield break;
        }
    }

    public static List<ImapReadResult> Feed(ImapCommandReader reader, string text, string mode) =>
        Feed(reader, Encoding.UTF8.GetBytes(text), mode);

    public static List<ImapReadResult> Feed(ImapCommandReader reader, byte[] data, string mode, bool rawLine = false)
    {
        var results = new List<ImapReadResult>();
        var pending = new List<byte[]>();
        var offset = 0;
        foreach (var size in Chunks(mode, data.Length))
        {
            pending.Add(data.AsSpan(offset, size).ToArray());
            offset += size;
            var input = ToSequence(pending);
            while (true)
            {
                var before = input.Length;
                var result = rawLine ? reader.TryReadLine(ref input) : reader.TryRead(ref input);
                if (result.Status == ImapReadStatus.NeedMoreData)
                {
                    Assert.Equal(0, input.Length);
                    break;
                }

                Assert.True(input.Length <= before);
                results.Add(result);
            }

            pending.Clear();
            if (input.Length > 0)
            {
                pending.Add(input.ToArray());
            }
        }

        return results;
    }

    /// <summary>A multi-segment sequence, so segment boundaries are exercised too.</summary>
    public static ReadOnlySequence<byte> ToSequence(IReadOnlyList<byte[]> pieces)
    {
        var nonEmpty = pieces.Where(p => p.Length > 0).ToList();
        if (nonEmpty.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(nonEmpty[0], 0);
        var last = first;
        foreach (var piece in nonEmpty.Skip(1))
        {
            last = last.Append(piece);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static ImapCommand Single(string text, string mode = Whole, ImapLimits? limits = null)
    {
        var results = Feed(new ImapCommandReader(limits), text, mode).Where(r => r.Status != ImapReadStatus.NeedContinuation).ToList();
        var result = Assert.Single(results);
        Assert.True(result.Status == ImapReadStatus.Command, $"{result.Status}: {result.Message}");
        return result.Command!;
    }

    public static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
