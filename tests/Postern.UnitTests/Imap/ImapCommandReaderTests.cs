using System.Text;
using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapCommandReaderTests
{
    public static TheoryData<string> Modes => ImapFeeding.Modes;

    [Theory]
    [MemberData(nameof(Modes))]
    public void Reads_a_simple_command(string mode)
    {
        var command = ImapFeeding.Single("a1 noop\r\n", mode);
        Assert.Equal("a1", command.Tag);
        Assert.Equal("NOOP", command.Name);
        Assert.Empty(command.Arguments);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Joins_uid_with_its_verb(string mode)
    {
        var command = ImapFeeding.Single("x Uid fetch 1:* (FLAGS)\r\n", mode);
        Assert.Equal("UID FETCH", command.Name);
        Assert.Equal(2, command.Arguments.Count);
        Assert.Equal("1:*", command.Arguments[0].AsString());
        Assert.True(command.Arguments[1].IsList);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Synchronizing_literal_asks_for_continuation_then_completes(string mode)
    {
        var reader = new ImapCommandReader();
        var results = ImapFeeding.Feed(reader, "A2 LOGIN {4}\r\nuser {5}\r\npa ss\r\n", mode);
        Assert.Equal(3, results.Count);
        Assert.Equal(ImapReadStatus.NeedContinuation, results[0].Status);
        Assert.Equal(4, results[0].LiteralSize);
        Assert.Equal("A2", results[0].Tag);
        Assert.Equal("LOGIN", results[0].CommandName);
        Assert.Equal(ImapReadStatus.NeedContinuation, results[1].Status);
        Assert.Equal(5, results[1].LiteralSize);
        var command = results[2].Command!;
        Assert.Equal(ImapTokenKind.Literal, command.Arguments[0].Kind);
        Assert.Equal("user", ImapFeeding.Text(command.Arguments[0].Value));
        Assert.Equal("pa ss", ImapFeeding.Text(command.Arguments[1].Value));
        Assert.True(reader.IsIdle);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Non_synchronizing_literals_need_no_continuation(string mode)
    {
        var results = ImapFeeding.Feed(new ImapCommandReader(), "a LOGIN {4+}\r\nuser {6+}\r\np\r\n{x}\r\n", mode);
        var result = Assert.Single(results);
        Assert.Equal(ImapReadStatus.Command, result.Status);
        Assert.Equal("p\r\n{x}", ImapFeeding.Text(result.Command!.Arguments[1].Value));
        Assert.True(result.Command.Arguments[1].IsNonSynchronizing);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Binary_literal_may_hold_nul(string mode)
    {
        var data = Encoding.ASCII.GetBytes("a APPEND box ~{3+}\r\n").Concat(new byte[] { 1, 0, 2 }).Concat(Encoding.ASCII.GetBytes("\r\n")).ToArray();
        var result = Assert.Single(ImapFeeding.Feed(new ImapCommandReader(), data, mode));
        var literal = result.Command!.Arguments[1];
        Assert.True(literal.IsBinary);
        Assert.Equal(new byte[] { 1, 0, 2 }, literal.Value.ToArray());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Literal_of_zero_octets(string mode)
    {
        var results = ImapFeeding.Feed(new ImapCommandReader(), "a LOGIN {0}\r\n {0+}\r\n\r\n", mode);
        Assert.Equal(ImapReadStatus.NeedContinuation, results[0].Status);
        var command = results[1].Command!;
        Assert.Equal(0, command.Arguments[0].Value.Length);
        Assert.Equal(0, command.Arguments[1].Value.Length);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Literal_ending_in_cr_before_a_bare_lf_keeps_its_cr(string mode)
    {
        var command = ImapFeeding.Single("a LOGIN x {2+}\r\nx\r\n", mode);
        Assert.Equal("x\r", ImapFeeding.Text(command.Arguments[1].Value));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Reads_sections_partials_and_nested_lists(string mode)
    {
        var command = ImapFeeding.Single("f FETCH 1 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (FROM \"To\")]<0.100> BODY[])\r\n", mode);
        var items = command.Arguments[1].Children;
        Assert.Equal(3, items.Count);
        var peek = items[1];
        Assert.Equal("BODY.PEEK", ImapFeeding.Text(peek.Value));
        Assert.Equal("BODY.PEEK[1.2.HEADER.FIELDS (FROM \"To\")]<0.100>", ImapFeeding.Text(peek.Raw));
        Assert.Equal("<0.100>", ImapFeeding.Text(peek.Suffix));
        Assert.Equal(2, peek.Section!.Count);
        Assert.Equal("1.2.HEADER.FIELDS", peek.Section[0].AsString());
        Assert.Equal(["FROM", "To"], peek.Section[1].Children.Select(c => c.AsString()));
        Assert.Empty(items[2].Section!);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Mailbox_names_with_brackets_read_as_astrings(string mode)
    {
        var command = ImapFeeding.Single("s SELECT [Gmail]/Sent\r\n", mode);
        Assert.Equal("[Gmail]/Sent", command.Arguments[0].AsString());
        var open = ImapFeeding.Single("s SELECT foo[bar\r\n", mode);
        Assert.Equal("foo[bar", open.Arguments[0].AsString());
        var closing = ImapFeeding.Single("s SELECT foo]bar\r\n", mode);
        Assert.Equal("foo]bar", closing.Arguments[0].AsString());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Quoted_strings_unescape(string mode)
    {
        var command = ImapFeeding.Single("q LOGIN \"a\\\"b\\\\c\" \"\"\r\n", mode);
        Assert.Equal("a\"b\\c", ImapFeeding.Text(command.Arguments[0].Value));
        Assert.Equal(ImapTokenKind.QuotedString, command.Arguments[1].Kind);
        Assert.Equal(0, command.Arguments[1].Value.Length);
    }

    [Fact]
    public void Nil_is_its_own_kind_but_still_an_astring()
    {
        var command = ImapFeeding.Single("n ID nil\r\n");
        Assert.Equal(ImapTokenKind.Nil, command.Arguments[0].Kind);
        Assert.Equal("nil", command.Arguments[0].AsString());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Pipelined_commands_come_out_in_order(string mode)
    {
        var results = ImapFeeding.Feed(new ImapCommandReader(), "1 NOOP\r\n\r\n2 LOGIN {1+}\r\nx y\r\n3 CAPABILITY\n", mode);
        Assert.Equal(["1", "2", "3"], results.Select(r => r.Command!.Tag));
        Assert.Equal("CAPABILITY", results[2].Command!.Name);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("NOOP\r\n")]
    [InlineData("+tag NOOP\r\n")]
    [InlineData("a\r\n")]
    [InlineData("a LOGIN \"abc\r\n")]
    [InlineData("a LOGIN \"a\\bc\"\r\n")]
    [InlineData("a FETCH 1 (FLAGS\r\n")]
    [InlineData("a FETCH 1 FLAGS)\r\n")]
    [InlineData("a LOGIN \"x\"\"y\"\r\n")]
    [InlineData("a LOGIN  x\r\n")]
    [InlineData("a LOGIN x{3}\r\n")]
    [InlineData("a LOGIN x\0\r\n")]
    [InlineData("a UID\r\n")]
    public void Malformed_commands_are_syntax_errors(string text)
    {
        var results = ImapFeeding.Feed(new ImapCommandReader(), text + "z NOOP\r\n", ImapFeeding.Whole);
        if (text == "\r\n")
        {
            // An empty line is ignored, not answered.
            Assert.Equal("z", Assert.Single(results).Command!.Tag);
            return;
        }

        Assert.Equal(2, results.Count);
        Assert.Equal(ImapReadStatus.SyntaxError, results[0].Status);
        Assert.NotNull(results[0].Message);
        Assert.Equal("z", results[1].Command!.Tag);
    }

    [Fact]
    public void Syntax_error_keeps_the_tag_for_the_reply()
    {
        var result = Assert.Single(ImapFeeding.Feed(new ImapCommandReader(), "t7 fetch 1 (\r\n", ImapFeeding.Whole));
        Assert.Equal(ImapReadStatus.SyntaxError, result.Status);
        Assert.Equal("t7", result.Tag);
        Assert.Equal("FETCH", result.CommandName);
    }

    [Fact]
    public void Literal_marker_inside_an_open_quote_is_not_a_literal()
    {
        var results = ImapFeeding.Feed(new ImapCommandReader(), "a LOGIN \"abc {5}\r\nb NOOP\r\n", ImapFeeding.Whole);
        Assert.Equal(ImapReadStatus.SyntaxError, results[0].Status);
        Assert.Equal("b", results[1].Command!.Tag);
    }

    [Fact]
    public void Raw_lines_for_idle_and_authenticate()
    {
        var reader = new ImapCommandReader();
        var results = ImapFeeding.Feed(reader, Encoding.ASCII.GetBytes("DONE\r\ndGVzdA==\n"), ImapFeeding.ByteByByte, rawLine: true);
        Assert.Equal(["DONE", "dGVzdA=="], results.Select(r => r.Line));
        Assert.All(results, r => Assert.Equal(ImapReadStatus.Line, r.Status));
    }
}
