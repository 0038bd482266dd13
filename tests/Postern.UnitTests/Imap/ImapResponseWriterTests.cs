using System.Buffers;
using System.Text;
using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapResponseWriterTests
{
    private static string Write(Action<ImapResponseWriter> write, bool utf8 = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new ImapResponseWriter(buffer, utf8));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void A_literal_never_carries_NUL_but_a_binary_literal_does()
    {
        static byte[] Octets(Action<ImapResponseWriter> write)
        {
            var buffer = new ArrayBufferWriter<byte>();
            write(new ImapResponseWriter(buffer));
            return buffer.WrittenSpan.ToArray();
        }

        // RFC 3501 §4.3: CHAR8 excludes NUL; Dovecot sends 0x80 in its place. RFC 3516 literal8 may carry it.
        Assert.Equal([.. "{5}\r\na"u8.ToArray(), 0x80, (byte)'b', 0x80, 0x80], Octets(w => w.Literal([(byte)'a', 0, (byte)'b', 0, 0])));
        Assert.Equal([.. "~{3}\r\n"u8.ToArray(), 0, 1, 0], Octets(w => w.Literal([0, 1, 0], binary: true)));
        Assert.Equal([.. "x"u8.ToArray(), 0x80, (byte)'y'], Octets(w => w.LiteralOctets("x\0y"u8)));
    }

    [Fact]
    public void Tagged_untagged_and_continuation()
    {
        Assert.Equal("a1 OK [READ-WRITE] SELECT completed\r\n", Write(w => w.Tagged("a1", ImapStatus.Ok, "READ-WRITE", "SELECT completed")));
        Assert.Equal("* BYE Logging out\r\n", Write(w => w.Untagged(ImapStatus.Bye, null, "Logging out")));
        Assert.Equal("+ Ready\r\n", Write(w => w.Continuation()));
        Assert.Equal("+ \r\n", Write(w => w.Continuation(string.Empty)));
    }

    [Fact]
    public void Text_cannot_inject_a_line()
    {
        Assert.Equal("a NO bad\r\n* OK x\r\n".Replace("\r\n* ", "  * ", StringComparison.Ordinal),
            Write(w => w.Tagged("a", ImapStatus.No, null, "bad\r\n* OK x")));
    }

    [Fact]
    public void Builds_fetch_responses_with_spacing()
    {
        var text = Write(w => w.BeginUntagged().Number(12).Atom("FETCH").BeginList()
            .Atom("FLAGS").Flags(ImapSystemFlags.Seen | ImapSystemFlags.Flagged, ["$Junk"], recent: true)
            .Atom("UID").Number(4827313)
            .Atom("BODY[HEADER]").String("Subject: hi\r\n\r\n")
            .Atom("ENVELOPE").BeginList().NString(null).String("a \"b\" \\c").EndList()
            .EndList().EndLine());
        Assert.Equal("* 12 FETCH (FLAGS (\\Flagged \\Seen \\Recent $Junk) UID 4827313 BODY[HEADER] {15}\r\nSubject: hi\r\n\r\n ENVELOPE (NIL \"a \\\"b\\\" \\\\c\"))\r\n", text);
    }

    [Theory]
    [InlineData("INBOX", "INBOX")]
    [InlineData("NIL", "\"NIL\"")]
    [InlineData("", "\"\"")]
    [InlineData("a b", "\"a b\"")]
    [InlineData("a%", "\"a%\"")]
    [InlineData("[Gmail]", "\"[Gmail]\"")]
    [InlineData("é", "{2}\r\né")]
    [InlineData("a\nb", "{3}\r\na\nb")]
    public void Astrings_pick_atom_quoted_or_literal(string value, string expected) => Assert.Equal(expected, Write(w => w.AString(value)));

    [Fact]
    public void Utf8_goes_quoted_only_when_enabled()
    {
        Assert.Equal("\"é\"", Write(w => w.String("é"), utf8: true));
        Assert.Equal("{2}\r\né", Write(w => w.String("é")));
        Assert.Equal("{1}\r\n\uFFFD", Write(w => w.String("\0"), utf8: true)); // NUL goes out as 0x80, not valid UTF-8
        var longText = new string('x', ImapResponseWriter.MaxQuotedLength + 1);
        Assert.StartsWith("{1025}\r\n", Write(w => w.String(longText)), StringComparison.Ordinal);
    }

    [Fact]
    public void Mailbox_names_are_encoded_by_mode()
    {
        Assert.Equal("Entw&APw-rfe", Write(w => w.Mailbox("Entwürfe")));
        Assert.Equal("\"Entwürfe\"", Write(w => w.Mailbox("Entwürfe"), utf8: true));
        Assert.Equal("\"Tom &- Jerry\"", Write(w => w.Mailbox("Tom & Jerry")));
    }

    [Fact]
    public void Literals_and_literal8()
    {
        Assert.Equal("~{3}\r\na\0b", Write(w => w.Literal("a\0b"u8, binary: true)));
        Assert.Equal("BODY[] {10}\r\n", Write(w => w.Atom("BODY[]").LiteralHeader(10)));
    }

    [Fact]
    public void Dates_are_quoted()
    {
        Assert.Equal("INTERNALDATE \"17-Jul-1996 02:44:25 -0700\"",
            Write(w => w.Atom("INTERNALDATE").DateTime(new DateTimeOffset(1996, 7, 17, 2, 44, 25, TimeSpan.FromHours(-7)))));
    }

    [Fact]
    public void Tracks_whether_a_line_is_open()
    {
        var writer = new ImapResponseWriter(new ArrayBufferWriter<byte>());
        Assert.False(writer.IsMidLine);
        writer.BeginUntagged().Number(1).Atom("FETCH").BeginList();
        Assert.True(writer.IsMidLine);
        writer.EndList().EndLine();
        Assert.False(writer.IsMidLine);
    }

    [Fact]
    public void Written_strings_read_back_through_the_reader()
    {
        var values = new[] { "plain", "with space", "quote\"and\\slash", "line\r\nbreak", "ünïcode", string.Empty, "NIL" };
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ImapResponseWriter(buffer);
        writer.BeginUntagged();
        foreach (var value in values)
        {
            writer.AString(value);
        }

        writer.EndLine();

        // The response grammar for strings is the command grammar's: re-read it as a command's arguments.
        var text = "t X" + Encoding.UTF8.GetString(buffer.WrittenSpan)[1..];
        var command = ImapFeeding.Single(text, ImapFeeding.ByteByByte);
        Assert.Equal(values, command.Arguments.Select(a => a.Kind == ImapTokenKind.Nil ? null : a.AsString()));
    }

    [Fact]
    public void A_staged_writer_hands_over_each_line_whole_at_its_end_and_keeps_the_order_of_long_pieces_and_literals()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ImapResponseWriter(buffer, staged: true);
        writer.BeginUntagged().Number(7).Atom("FETCH"u8).BeginList().Atom("UID"u8).Number(42).Atom("FLAGS"u8).Flags(ImapSystemFlags.Seen | ImapSystemFlags.Flagged, []);
        Assert.Equal(0, buffer.WrittenCount);
        writer.EndList().EndLine();
        Assert.Equal("* 7 FETCH (UID 42 FLAGS (\\Flagged \\Seen))\r\n", Encoding.ASCII.GetString(buffer.WrittenSpan));

        // Pieces longer than the stage, a literal, and a streamed literal whose octets go to Output after its header.
        var big = new string('x', 2000);
        var expected = new StringBuilder("* 1 FETCH (X-A ").Append(big).Append(" BODY[] {3}\r\nabc BODY[1] {4}\r\nwxyz)\r\n");
        buffer.Clear();
        writer.BeginUntagged().Number(1).Atom("FETCH"u8).BeginList().Atom("X-A").Atom(big).Atom("BODY[]").Literal("abc"u8);
        writer.Atom("BODY[1]").LiteralHeader(4);
        writer.Output.Write("wxyz"u8);
        writer.EndList().EndLine();
        Assert.Equal(expected.ToString(), Encoding.ASCII.GetString(buffer.WrittenSpan));

        // Many short lines: each arrives whole and in order.
        buffer.Clear();
        for (var n = 1; n <= 100; n++)
        {
            writer.BeginUntagged().Number((ulong)n).Atom("EXISTS"u8).EndLine();
        }

        Assert.Equal(string.Concat(Enumerable.Range(1, 100).Select(n => $"* {n} EXISTS\r\n")), Encoding.ASCII.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void System_flag_lists_are_written_as_the_general_path_writes_them()
    {
        for (var flags = 0; flags < 32; flags++)
        {
            var expected = "(" + string.Join(' ', ImapFlagSet.Names((ImapSystemFlags)flags)) + ")";
            Assert.Equal(expected, Write(w => w.Adjoin().Flags((ImapSystemFlags)flags, [])).TrimStart());
            Assert.Equal(expected.TrimEnd(')') + (flags == 0 ? string.Empty : " ") + "\\Recent)", Write(w => w.Adjoin().Flags((ImapSystemFlags)flags, [], recent: true)).TrimStart());
        }

        Assert.Equal("(\\Seen $Junk)", Write(w => w.Adjoin().Flags(ImapSystemFlags.Seen, ["$Junk"])).TrimStart());
    }
}
