using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>One element of a sequence set; <see cref="ImapSequenceSet.Star"/> stands for "*" (the largest number in use).</summary>
public readonly record struct ImapSequenceRange(uint Start, uint End)
{
    public bool IsSingle => Start == End;

    public override string ToString() => IsSingle ? Format(Start) : Format(Start) + ":" + Format(End);

    private static string Format(uint value) => value == ImapSequenceSet.Star ? "*" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A parsed sequence set: message sequence numbers or UIDs, or "$" (the saved search result, RFC 5182).</summary>
/// <remarks>
/// <code>
/// sequence-set = (seq-number / seq-range) ["," sequence-set] / "$"
/// seq-range    = seq-number ":" seq-number    ; either order: 4:2 is 2:4
/// seq-number   = nz-number / "*"
/// nz-number    = digit-nz *DIGIT              ; 1..4294967295
/// </code>
/// </remarks>
public sealed class ImapSequenceSet
{
    /// <summary>"*" — 0 is never a valid sequence number or UID, so it is free to stand for it.</summary>
    public const uint Star = 0;

    private ImapSequenceSet(IReadOnlyList<ImapSequenceRange> ranges, bool isSaved)
    {
        Ranges = ranges;
        IsSavedResult = isSaved;
    }

    /// <summary>The ranges as sent (not normalised: 4:2 stays 4:2).</summary>
    public IReadOnlyList<ImapSequenceRange> Ranges { get; }

    /// <summary>The set is "$", the result saved by SEARCH RETURN (SAVE).</summary>
    public bool IsSavedResult { get; }

    public static ImapSequenceSet Saved { get; } = new([], isSaved: true);

    public static ImapSequenceSet FromRanges(IEnumerable<ImapSequenceRange> ranges) => new(ranges.ToList(), isSaved: false);

    public static bool TryParse(string text, out ImapSequenceSet set) => TryParse(Encoding.ASCII.GetBytes(text), out set);

    public static bool TryParse(ReadOnlySpan<byte> text, out ImapSequenceSet set)
    {
        set = null!;
        if (text.Length == 1 && text[0] == (byte)'$')
        {
            set = Saved;
            return true;
        }

        var ranges = new List<ImapSequenceRange>();
        var position = 0;
        while (true)
        {
            if (!TryReadNumber(text, ref position, out var start))
            {
                return false;
            }

            var end = start;
            if (position < text.Length && text[position] == (byte)':')
            {
                position++;
                if (!TryReadNumber(text, ref position, out end))
                {
                    return false;
                }
            }

            ranges.Add(new ImapSequenceRange(start, end));
            if (position == text.Length)
            {
                break;
            }

            if (text[position] != (byte)',')
            {
                return false;
            }

            position++;
        }

        set = new ImapSequenceSet(ranges, isSaved: false);
        return true;
    }

    private static bool TryReadNumber(ReadOnlySpan<byte> text, ref int position, out uint value)
    {
        value = 0;
        if (position >= text.Length)
        {
            return false;
        }

        if (text[position] == (byte)'*')
        {
            position++;
            value = Star;
            return true;
        }

        // nz-number: no leading zero, no zero.
        if (text[position] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }

        ulong number = 0;
        while (position < text.Length && char.IsAsciiDigit((char)text[position]))
        {
            number = (number * 10) + (ulong)(text[position] - '0');
            if (number > uint.MaxValue)
            {
                return false;
            }

            position++;
        }

        value = (uint)number;
        return true;
    }

    /// <summary>
    /// The concrete, ascending, merged ranges when "*" is <paramref name="largest"/> (the highest sequence number or UID
    /// in the mailbox; 0 for an empty mailbox, where "*" matches nothing), clipped to 1..largest.
    /// </summary>
    public IReadOnlyList<(uint Start, uint End)> Resolve(uint largest)
    {
        var list = new List<(uint Start, uint End)>(Ranges.Count);
        foreach (var range in Ranges)
        {
            var a = range.Start == Star ? largest : range.Start;
            var b = range.End == Star ? largest : range.End;
            if (a == 0 && b == 0)
            {
                continue;
            }

            if (a > b)
            {
                (a, b) = (b, a);
            }

            // Numbers above the largest exist in no mailbox state; they simply match nothing.
            if (a > largest)
            {
                continue;
            }

            list.Add((Math.Max(a, 1u), Math.Min(b, largest)));
        }

        list.Sort((x, y) => x.Start.CompareTo(y.Start));
        var merged = new List<(uint Start, uint End)>(list.Count);
        foreach (var range in list)
        {
            if (merged.Count > 0 && range.Start <= (ulong)merged[^1].End + 1)
            {
                var last = merged[^1];
                merged[^1] = (last.Start, Math.Max(last.End, range.End));
            }
            else
            {
                merged.Add(range);
            }
        }

        return merged;
    }

    public bool Contains(uint value, uint largest)
    {
        foreach (var range in Ranges)
        {
            var a = range.Start == Star ? largest : range.Start;
            var b = range.End == Star ? largest : range.End;
            if (a > b)
            {
                (a, b) = (b, a);
            }

            if (value >= a && value <= b && value <= largest)
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => IsSavedResult ? "$" : string.Join(',', Ranges);

    /// <summary>Compact form of a list of numbers (for COPYUID/APPENDUID and ESEARCH ALL): 1:3,7,9:10.</summary>
    public static string Format(IEnumerable<uint> numbers) => FormatInOrder(numbers.Distinct().Order().ToList());

    /// <summary>
    /// The numbers in the order given (ESORT's ALL, RFC 5267 §3.2): only runs that ascend by one become ranges, so the
    /// set read from left to right names the messages in that order.
    /// </summary>
    public static string FormatInOrder(IReadOnlyList<uint> numbers)
    {
        var builder = new StringBuilder();
        var i = 0;
        while (i < numbers.Count)
        {
            var j = i;
            while (j + 1 < numbers.Count && numbers[j + 1] == numbers[j] + 1)
            {
                j++;
            }

            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(numbers[i]);
            if (j > i)
            {
                builder.Append(':').Append(numbers[j]);
            }

            i = j + 1;
        }

        return builder.ToString();
    }
}
