using System.Buffers;
using System.Text;
using Postern.Protocols;
using Postern.Protocols.Pop3;

namespace Postern.UnitTests.Pop3;

public sealed class Pop3CommandParserTests
{
    [Theory]
    [InlineData("STAT", Pop3Verb.Stat)]
    [InlineData("stat", Pop3Verb.Stat)]
    [InlineData("CaPa", Pop3Verb.Capa)]
    [InlineData("QUIT", Pop3Verb.Quit)]
    [InlineData("STLS", Pop3Verb.Stls)]
    [InlineData("NOOP", Pop3Verb.Noop)]
    [InlineData("RSET", Pop3Verb.Rset)]
    [InlineData("LIST", Pop3Verb.List)]
    [InlineData("UIDL", Pop3Verb.Uidl)]
    [InlineData("AUTH", Pop3Verb.Auth)]
    public void ParsesCommandsWithoutArguments(string line, Pop3Verb verb)
    {
        var command = Parse(line);
        Assert.Equal(verb, command.Verb);
        Assert.Null(command.Argument);
        Assert.Null(command.MessageNumber);
    }

    [Theory]
    [InlineData("RETR 1", Pop3Verb.Retr, 1L)]
    [InlineData("dele 42", Pop3Verb.Dele, 42L)]
    [InlineData("LIST 7", Pop3Verb.List, 7L)]
    [InlineData("UIDL 3", Pop3Verb.Uidl, 3L)]
    [InlineData("RETR 0", Pop3Verb.Retr, 0L)]
    [InlineData("RETR   5", Pop3Verb.Retr, 5L)]
    public void ParsesMessageNumbers(string line, Pop3Verb verb, long number)
    {
        var command = Parse(line);
        Assert.Equal(verb, command.Verb);
        Assert.Equal(number, command.MessageNumber);
    }

    [Fact]
    public void HugeNumbersSaturateInsteadOfOverflowing()
    {
        var command = Parse("RETR 99999999999999999999999999999");
        Assert.Equal(long.MaxValue, command.MessageNumber);
    }

    [Fact]
    public void ParsesTop()
    {
        var command = Parse("TOP 2 10");
        Assert.Equal(Pop3Verb.Top, command.Verb);
        Assert.Equal(2, command.MessageNumber);
        Assert.Equal(10, command.LineCount);
    }

    [Fact]
    public void PassKeepsSpacesInThePassword()
    {
        // RFC 1939 §7: a server may treat spaces in the PASS argument as part of the password.
        var command = Parse("PASS  my secret pass ");
        Assert.Equal(Pop3Verb.Pass, command.Verb);
        Assert.Equal(" my secret pass ", command.Argument);
        Assert.DoesNotContain("secret", command.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void UserTakesTheWholeName()
    {
        Assert.Equal("alice@example.test", Parse("USER alice@example.test").Argument);
        Assert.Equal("ünïcode@example.test", Parse("USER ünïcode@example.test").Argument);
    }

    [Fact]
    public void AuthTakesMechanismAndInitialResponse()
    {
        var command = Parse("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
        Assert.Equal("PLAIN", command.Argument);
        Assert.Equal("AGFsaWNlAHNlY3JldA==", command.SecondArgument);
        Assert.DoesNotContain("AGFsaWNl", command.ToString(), StringComparison.Ordinal);

        Assert.Null(Parse("AUTH LOGIN").SecondArgument);
    }

    [Theory]
    [InlineData("RETR", Pop3ParseError.BadArguments)]
    [InlineData("RETR x", Pop3ParseError.BadArguments)]
    [InlineData("RETR -1", Pop3ParseError.BadArguments)]
    [InlineData("RETR 1 2", Pop3ParseError.BadArguments)]
    [InlineData("DELE", Pop3ParseError.BadArguments)]
    [InlineData("TOP 1", Pop3ParseError.BadArguments)]
    [InlineData("TOP 1 -5", Pop3ParseError.BadArguments)]
    [InlineData("TOP 1 2 3", Pop3ParseError.BadArguments)]
    [InlineData("LIST 1 2", Pop3ParseError.BadArguments)]
    [InlineData("STAT 1", Pop3ParseError.BadArguments)]
    [InlineData("QUIT now", Pop3ParseError.BadArguments)]
    [InlineData("USER", Pop3ParseError.BadArguments)]
    [InlineData("USER    ", Pop3ParseError.BadArguments)]
    [InlineData("PASS", Pop3ParseError.BadArguments)]
    [InlineData("AUTH PLAIN a b", Pop3ParseError.BadArguments)]
    [InlineData("APOP alice", Pop3ParseError.BadArguments)]
    [InlineData("", Pop3ParseError.Empty)]
    [InlineData("   ", Pop3ParseError.Empty)]
    [InlineData("HELO", Pop3ParseError.UnknownCommand)]
    [InlineData("EHLO example.test", Pop3ParseError.UnknownCommand)]
    [InlineData("RE", Pop3ParseError.UnknownCommand)]
    [InlineData("RETRIEVE 1", Pop3ParseError.UnknownCommand)]
    [InlineData("GET / HTTP/1.1", Pop3ParseError.UnknownCommand)]
    [InlineData("RETR\u00001", Pop3ParseError.InvalidCharacters)]
    [InlineData("PASS a\u0001b", Pop3ParseError.InvalidCharacters)]
    [InlineData("NOOP\u007F", Pop3ParseError.InvalidCharacters)]
    public void RefusesMalformedLines(string line, Pop3ParseError expected)
    {
        Assert.False(Pop3CommandParser.TryParse(Encoding.UTF8.GetBytes(line), out var command, out var error));
        Assert.Null(command);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void RefusesBytesThatAreNotUtf8()
    {
        Assert.False(Pop3CommandParser.TryParse([(byte)'U', (byte)'S', (byte)'E', (byte)'R', (byte)' ', 0xC3, 0x28], out _, out var error));
        Assert.Equal(Pop3ParseError.InvalidCharacters, error);
    }

    [Fact]
    public void TryReadFramesPipelinedCommands()
    {
        var buffer = new ReadOnlySequence<byte>("STAT\r\nLIST 1\r\nRETR"u8.ToArray());
        Assert.Equal(LineReadStatus.Line, Pop3CommandParser.TryRead(ref buffer, 255, out var first, out _));
        Assert.Equal(Pop3Verb.Stat, first!.Verb);
        Assert.Equal(LineReadStatus.Line, Pop3CommandParser.TryRead(ref buffer, 255, out var second, out _));
        Assert.Equal(1, second!.MessageNumber);
        Assert.Equal(LineReadStatus.NeedMoreData, Pop3CommandParser.TryRead(ref buffer, 255, out var third, out _));
        Assert.Null(third);
    }

    [Fact]
    public void TryReadGivesTheSameCommandsFedByteByByte()
    {
        var input = "USER alice@example.test\r\nPASS two words\r\nTOP 1 10\nQUIT\r\n"u8.ToArray();
        var commands = new List<Pop3Command>();
        var received = new List<byte>();
        foreach (var b in input)
        {
            received.Add(b);
            var buffer = new ReadOnlySequence<byte>(received.ToArray());
            while (Pop3CommandParser.TryRead(ref buffer, 255, out var command, out var error) == LineReadStatus.Line)
            {
                Assert.Equal(Pop3ParseError.None, error);
                commands.Add(command!);
            }

            // Keep only what was not consumed, as a pipe would.
            received = [.. buffer.ToArray()];
        }

        Assert.Equal([Pop3Verb.User, Pop3Verb.Pass, Pop3Verb.Top, Pop3Verb.Quit], commands.Select(c => c.Verb));
        Assert.Equal("two words", commands[1].Argument);
        Assert.Equal(10, commands[2].LineCount);
    }

    [Fact]
    public void TryReadReportsTooLongLines()
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("USER " + new string('a', 300) + "\r\nNOOP\r\n"));
        Assert.Equal(LineReadStatus.TooLong, Pop3CommandParser.TryRead(ref buffer, Pop3CommandParser.MaxCommandLength, out var command, out _));
        Assert.Null(command);
        Assert.Equal(LineReadStatus.Line, Pop3CommandParser.TryRead(ref buffer, Pop3CommandParser.MaxCommandLength, out var next, out _));
        Assert.Equal(Pop3Verb.Noop, next!.Verb);
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var random = new Random(2449);
        var verbs = new[] { "USER ", "PASS ", "AUTH ", "RETR ", "TOP ", "LIST ", "UIDL ", "DELE ", "" };
        for (var i = 0; i < 20_000; i++)
        {
            var prefix = Encoding.ASCII.GetBytes(verbs[random.Next(verbs.Length)]);
            var tail = new byte[random.Next(0, 40)];
            random.NextBytes(tail);
            var line = prefix.Concat(tail).ToArray();
            var ok = Pop3CommandParser.TryParse(line, out var command, out var error);
            Assert.Equal(ok, command is not null);
            Assert.Equal(ok, error == Pop3ParseError.None);
        }
    }

    private static Pop3Command Parse(string line)
    {
        Assert.True(Pop3CommandParser.TryParse(Encoding.UTF8.GetBytes(line), out var command, out var error), error.ToString());
        return command!;
    }
}
