using System.Buffers;
using System.Text;
using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapCommandReaderLimitTests
{
    public static TheoryData<string> Modes => ImapFeeding.Modes;

    [Fact]
    public void Huge_synchronizing_literal_is_refused_without_allocating()
    {
        var reader = new ImapCommandReader();

        // Warm up so JIT and first-use allocations are not counted.
        ImapFeeding.Feed(reader, "w APPEND INBOX {1}\r\nx\r\n", ImapFeeding.Whole);
        var input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("a1 APPEND INBOX {4294967295}\r\n"));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = reader.TryRead(ref input);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ImapReadStatus.LiteralTooLarge, result.Status);
        Assert.True(result.IsSynchronizing);
        Assert.False(result.MustClose);
        Assert.Equal(4294967295L, result.LiteralSize);
        Assert.Equal("a1", result.Tag);
        Assert.Equal("APPEND", result.CommandName);
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} bytes");
        Assert.True(reader.IsIdle);
        Assert.Equal(0, input.Length);
    }

    [Fact]
    public void Absurd_literal_sizes_are_refused_too()
    {
        var results = ImapFeeding.Feed(new ImapCommandReader(), "a1 APPEND INBOX {99999999999999999999999}\r\nb NOOP\r\n", ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.LiteralTooLarge, results[0].Status);
        Assert.Equal(long.MaxValue, results[0].LiteralSize);
        Assert.Equal("b", results[1].Command!.Tag);
    }

    [Fact]
    public void Append_and_other_commands_have_separate_literal_limits()
    {
        var limits = new ImapLimits { MaxLiteralSize = 10, MaxAppendLiteralSize = 100 };
        var login = ImapFeeding.Feed(new ImapCommandReader(limits), "a LOGIN {11}\r\n", ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.LiteralTooLarge, Assert.Single(login).Status);
        var append = ImapFeeding.Feed(new ImapCommandReader(limits), "a APPEND INBOX {50}\r\n", ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.NeedContinuation, Assert.Single(append).Status);

        // REPLACE (RFC 8508) carries an append-message: the message limit, not the one for other literals.
        var replace = ImapFeeding.Feed(new ImapCommandReader(limits), "a REPLACE 1 Drafts {50}\r\n", ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.NeedContinuation, Assert.Single(replace).Status);
        var uidReplace = ImapFeeding.Feed(new ImapCommandReader(limits), "a UID REPLACE 9 Drafts {101}\r\n", ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.LiteralTooLarge, Assert.Single(uidReplace).Status);
        Assert.Equal("UID REPLACE", uidReplace[0].CommandName);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Oversized_non_synchronizing_literal_is_discarded_and_the_stream_stays_in_sync(string mode)
    {
        var limits = new ImapLimits { MaxLiteralSize = 16 };
        var text = "a LOGIN {40+}\r\n" + new string('x', 20) + "\r\nz NOOP\r\n" + new string('y', 14) + " {3+}\r\nabc\r\nb NOOP\r\n";
        var results = ImapFeeding.Feed(new ImapCommandReader(limits), text, mode);
        Assert.Equal(2, results.Count);
        Assert.Equal(ImapReadStatus.LiteralTooLarge, results[0].Status);
        Assert.False(results[0].IsSynchronizing);
        Assert.False(results[0].MustClose);
        Assert.Equal("a", results[0].Tag);
        Assert.Equal("b", results[1].Command!.Tag);
    }

    [Fact]
    public void Literal_minus_refuses_non_synchronizing_literals_over_4096()
    {
        var limits = new ImapLimits { NonSynchronizingLiterals = ImapLiteralExtension.LiteralMinus };
        var text = "a LOGIN {4097+}\r\n" + new string('x', 4097) + "\r\nb LOGIN {4096+}\r\n" + new string('x', 4096) + "\r\n";
        var results = ImapFeeding.Feed(new ImapCommandReader(limits), text, ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.LiteralTooLarge, results[0].Status);
        Assert.False(results[0].IsSynchronizing);
        Assert.Equal(ImapReadStatus.Command, results[1].Status);
        Assert.Equal(4096, results[1].Command!.Arguments[0].Value.Length);
    }

    [Fact]
    public void Non_synchronizing_literal_too_big_to_discard_closes_the_connection()
    {
        var limits = new ImapLimits { MaxDiscardedLiteralSize = 1000 };
        var result = Assert.Single(ImapFeeding.Feed(new ImapCommandReader(limits), "a APPEND INBOX {4294967295+}\r\n", ImapFeeding.Whole));
        Assert.Equal(ImapReadStatus.LiteralTooLarge, result.Status);
        Assert.True(result.MustClose);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Too_long_line_is_refused_and_skipped(string mode)
    {
        var limits = new ImapLimits { MaxLineLength = 64 };
        var text = "t1 SEARCH " + new string('A', 200) + "\r\nt2 NOOP\r\n";
        var results = ImapFeeding.Feed(new ImapCommandReader(limits), text, mode);
        Assert.Equal(2, results.Count);
        Assert.Equal(ImapReadStatus.LineTooLong, results[0].Status);
        Assert.Equal("t1", results[0].Tag);
        Assert.Equal("SEARCH", results[0].CommandName);
        Assert.Equal("t2", results[1].Command!.Tag);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Too_long_line_ending_in_a_non_synchronizing_literal_skips_the_literal_too(string mode)
    {
        var limits = new ImapLimits { MaxLineLength = 64 };
        var text = "t1 SEARCH " + new string('A', 100) + " {12+}\r\nt3 NOOP\r\nxx\r\nt2 NOOP\r\n";
        var results = ImapFeeding.Feed(new ImapCommandReader(limits), text, mode);
        Assert.Equal(2, results.Count);
        Assert.Equal(ImapReadStatus.LineTooLong, results[0].Status);
        Assert.Equal("t2", results[1].Command!.Tag);
    }

    [Fact]
    public void Line_of_exactly_the_maximum_is_accepted()
    {
        var limits = new ImapLimits { MaxLineLength = 20 };
        var line = "t LOGIN " + new string('a', 12);
        Assert.Equal(20, line.Length);
        Assert.Equal("LOGIN", ImapFeeding.Single(line + "\r\n", ImapFeeding.ByteByByte, limits).Name);
        var results = ImapFeeding.Feed(new ImapCommandReader(limits), line + "a\r\n", ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.LineTooLong, Assert.Single(results).Status);
    }

    [Fact]
    public void Whole_command_size_is_limited_across_literals()
    {
        var limits = new ImapLimits { MaxCommandSize = 100 };
        var results = ImapFeeding.Feed(new ImapCommandReader(limits), "a LOGIN {60}\r\n" + new string('x', 60) + " {60}\r\n", ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.NeedContinuation, results[0].Status);
        Assert.Equal(ImapReadStatus.CommandTooLong, results[1].Status);
        Assert.True(results[1].IsSynchronizing);
    }

    [Fact]
    public void Number_of_literals_is_limited()
    {
        var limits = new ImapLimits { MaxLiteralCount = 3 };
        var text = "a X {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd\r\nb NOOP\r\n";
        var results = ImapFeeding.Feed(new ImapCommandReader(limits), text, ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.CommandTooLong, results[0].Status);
        Assert.Equal("b", results[1].Command!.Tag);
    }

    [Theory]
    [InlineData(8, ImapReadStatus.Command)]
    [InlineData(9, ImapReadStatus.NestingTooDeep)]
    [InlineData(500, ImapReadStatus.NestingTooDeep)]
    public void Deep_nesting_is_refused(int depth, ImapReadStatus expected)
    {
        var limits = new ImapLimits { MaxNestingDepth = 8 };
        var text = "d SEARCH " + new string('(', depth) + "ALL" + new string(')', depth) + "\r\n";
        var result = Assert.Single(ImapFeeding.Feed(new ImapCommandReader(limits), text, ImapFeeding.Whole));
        Assert.Equal(expected, result.Status);
        Assert.Equal("d", result.Tag);
    }

    [Fact]
    public void Section_brackets_count_towards_nesting()
    {
        var limits = new ImapLimits { MaxNestingDepth = 2 };
        var ok = Assert.Single(ImapFeeding.Feed(new ImapCommandReader(limits), "f FETCH 1 (BODY[HEADER.FIELDS (A)])\r\n", ImapFeeding.Whole));
        Assert.Equal(ImapReadStatus.NestingTooDeep, ok.Status);
        limits = new ImapLimits { MaxNestingDepth = 3 };
        ok = Assert.Single(ImapFeeding.Feed(new ImapCommandReader(limits), "f FETCH 1 (BODY[HEADER.FIELDS (A)])\r\n", ImapFeeding.Whole));
        Assert.Equal(ImapReadStatus.Command, ok.Status);
    }

    [Fact]
    public void Literal_buffer_grows_with_arriving_octets_not_with_the_announced_size()
    {
        var limits = new ImapLimits { MaxAppendLiteralSize = 1L << 30, MaxCommandSize = 1L << 31 };
        var reader = new ImapCommandReader(limits);
        var input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("a APPEND INBOX {1000000000}\r\n"));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(ImapReadStatus.NeedContinuation, reader.TryRead(ref input).Status);
        var chunk = new ReadOnlySequence<byte>(new byte[10]);
        Assert.Equal(ImapReadStatus.NeedMoreData, reader.TryRead(ref chunk).Status);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }
}
