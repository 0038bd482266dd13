using System.Globalization;
using System.Text;

namespace Postern.Protocols.Imap;

/// <summary>IMAP dates: <c>date-time</c> for INTERNALDATE/APPEND and <c>date</c> for SEARCH.</summary>
/// <remarks>
/// <code>
/// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
/// date-day-fixed = (SP DIGIT) / 2DIGIT ; time = 2DIGIT ":" 2DIGIT ":" 2DIGIT ; zone = ("+" / "-") 4DIGIT
/// date = date-text / DQUOTE date-text DQUOTE ; date-text = date-day "-" date-month "-" date-year ; date-day = 1*2DIGIT
/// </code>
/// </remarks>
public static class ImapDateTime
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    public static bool TryParseDateTime(ReadOnlySpan<byte> text, out DateTimeOffset value)
    {
        value = default;

        // "dd-MMM-yyyy hh:mm:ss +zzzz" is exactly 26 characters.
        if (text.Length != 26 || text[2] != (byte)'-' || text[6] != (byte)'-' || text[11] != (byte)' ' || text[14] != (byte)':' ||
            text[17] != (byte)':' || text[20] != (byte)' ')
        {
            return false;
        }

        int day;
        if (text[0] == (byte)' ')
        {
            if (!TryDigits(text.Slice(1, 1), out day))
            {
                return false;
            }
        }
        else if (!TryDigits(text[..2], out day))
        {
            return false;
        }

        if (!TryMonth(text.Slice(3, 3), out var month) || !TryDigits(text.Slice(7, 4), out var year) ||
            !TryDigits(text.Slice(12, 2), out var hour) || !TryDigits(text.Slice(15, 2), out var minute) ||
            !TryDigits(text.Slice(18, 2), out var second) || text[21] is not ((byte)'+' or (byte)'-') ||
            !TryDigits(text.Slice(22, 2), out var zoneHours) || !TryDigits(text.Slice(24, 2), out var zoneMinutes))
        {
            return false;
        }

        if (year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 60 || zoneMinutes > 59 || zoneHours > 14)
        {
            return false;
        }

        var offset = new TimeSpan(zoneHours, zoneMinutes, 0);
        if (text[21] == (byte)'-')
        {
            offset = -offset;
        }

        // A leap second is folded into the next minute's first second.
        var local = new DateTime(year, month, day, hour, minute, Math.Min(second, 59));

        // "01-Jan-0001 00:00:00 +1200" is a valid date-time whose UTC instant is before year 1: not representable.
        var utcTicks = local.Ticks - offset.Ticks;
        if (utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        value = new DateTimeOffset(local, offset);
        return true;
    }

    public static bool TryParseDate(ReadOnlySpan<byte> text, out DateOnly value)
    {
        value = default;
        var first = text.IndexOf((byte)'-');
        if (first is < 1 or > 2 || text.Length != first + 9 || text[first + 4] != (byte)'-')
        {
            return false;
        }

        if (!TryDigits(text[..first], out var day) || !TryMonth(text.Slice(first + 1, 3), out var month) || !TryDigits(text.Slice(first + 5, 4), out var year))
        {
            return false;
        }

        if (year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        value = new DateOnly(year, month, day);
        return true;
    }

    /// <summary>The date-time as it goes on the wire, quotes included: <c>"07-Feb-1994 21:52:25 -0800"</c>.</summary>
    public static string FormatDateTime(DateTimeOffset value)
    {
        var offset = value.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        var builder = new StringBuilder(28);
        builder.Append('"')
            .Append(value.Day.ToString("00", CultureInfo.InvariantCulture)).Append('-')
            .Append(Months[value.Month - 1]).Append('-')
            .Append(value.Year.ToString("0000", CultureInfo.InvariantCulture)).Append(' ')
            .Append(value.ToString("HH:mm:ss", CultureInfo.InvariantCulture)).Append(' ')
            .Append(sign)
            .Append(offset.Hours.ToString("00", CultureInfo.InvariantCulture))
            .Append(offset.Minutes.ToString("00", CultureInfo.InvariantCulture))
            .Append('"');
        return builder.ToString();
    }

    private static bool TryMonth(ReadOnlySpan<byte> text, out int month)
    {
        for (var i = 0; i < Months.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(text, Months[i]))
            {
                month = i + 1;
                return true;
            }
        }

        month = 0;
        return false;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var b in text)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }
}
