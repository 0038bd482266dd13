using System.Text;
using Postern.Protocols.Smtp;

namespace Postern.UnitTests.Smtp;

public sealed class SmtpCommandParserTests
{
    private static SmtpCommand Parse(string line)
    {
        Assert.True(SmtpCommandParser.TryParse(Encoding.UTF8.GetBytes(line), out var command));
        return command;
    }

    [Theory]
    [InlineData("EHLO client.test", SmtpVerb.Ehlo, "client.test")]
    [InlineData("ehlo client.test", SmtpVerb.Ehlo, "client.test")]
    [InlineData("HeLo x", SmtpVerb.Helo, "x")]
    [InlineData("MAIL FROM:<a@b.c>", SmtpVerb.Mail, "FROM:<a@b.c>")]
    [InlineData("DATA", SmtpVerb.Data, "")]
    [InlineData("BDAT 10 LAST", SmtpVerb.Bdat, "10 LAST")]
    [InlineData("STARTTLS", SmtpVerb.StartTls, "")]
    [InlineData("AUTH PLAIN AGEAYg==", SmtpVerb.Auth, "PLAIN AGEAYg==")]
    [InlineData("XYZZY now", SmtpVerb.Unknown, "now")]
    public void SplitsVerbAndArgument(string line, SmtpVerb verb, string argument)
    {
        var command = Parse(line);
        Assert.Equal(verb, command.Verb);
        Assert.Equal(argument, command.Argument);
    }

    [Fact]
    public void RefusesControlCharactersAndInvalidUtf8()
    {
        Assert.False(SmtpCommandParser.TryParse("NOOP \0x"u8, out _));
        Assert.False(SmtpCommandParser.TryParse("NOOP \r x"u8, out _));
        Assert.False(SmtpCommandParser.TryParse([(byte)'N', (byte)'O', 0xC3, 0x28], out _));
    }

    [Theory]
    [InlineData("client.example.com", true)]
    [InlineData("[192.0.2.1]", true)]
    [InlineData("[IPv6:2001:db8::1]", true)]
    [InlineData("host_with_underscore.local", true)]
    [InlineData("bücher.example", true)]
    [InlineData("", false)]
    [InlineData("two words", false)]
    [InlineData("[999.1.1.1]", false)]
    [InlineData("[192.0.2.1", false)]
    [InlineData("bad<host>", false)]
    public void ValidatesTheEhloDomain(string argument, bool valid) =>
        Assert.Equal(valid, SmtpCommandParser.TryParseHeloDomain(argument, out _));

    [Theory]
    [InlineData("FROM:<alice@example.test>", "alice@example.test")]
    [InlineData("from:<alice@example.test>", "alice@example.test")]
    [InlineData("FROM: <alice@example.test>", "alice@example.test")]
    [InlineData("FROM:<>", "")]
    [InlineData("FROM:<\"john doe\"@example.test>", "\"john doe\"@example.test")]
    [InlineData("FROM:<\"a>b\"@example.test>", "\"a>b\"@example.test")]
    [InlineData("FROM:<\"quote\\\"d\"@example.test>", "\"quote\\\"d\"@example.test")]
    [InlineData("FROM:<@relay.test,@other.test:alice@example.test>", "alice@example.test")]
    [InlineData("FROM:<user@[192.0.2.7]>", "user@[192.0.2.7]")]
    [InlineData("FROM:<first.last+tag@sub.example.test>", "first.last+tag@sub.example.test")]
    [InlineData("FROM:<\"alice\"@example.test>", "alice@example.test")]
    [InlineData("FROM:<\"first.last\"@example.test>", "first.last@example.test")]
    [InlineData("FROM:<\"\\a\"@example.test>", "a@example.test")]
    [InlineData("FROM:<\".a\"@example.test>", "\".a\"@example.test")]
    public void ParsesReversePaths(string argument, string address)
    {
        Assert.Equal(SmtpPathError.None, SmtpCommandParser.TryParsePath(argument, "FROM:", allowNull: true, out var path));
        Assert.Equal(address, path!.Address);
        Assert.Equal(address.Length == 0, path.IsNull);
    }

    [Theory]
    [InlineData("FROM:alice@example.test")]
    [InlineData("FROM:<alice@example.test")]
    [InlineData("FROM:<alice>")]
    [InlineData("FROM:<@example.test>")]
    [InlineData("FROM:<alice@>")]
    [InlineData("FROM:<.alice@example.test>")]
    [InlineData("FROM:<al..ice@example.test>")]
    [InlineData("FROM:<al ice@example.test>")]
    [InlineData("FROM:<alice@exa mple.test>")]
    [InlineData("FROM:<alice@-example.test>")]
    [InlineData("FROM:<alice@example.test>SIZE=1")]
    [InlineData("TO:<alice@example.test>")]
    [InlineData("FROM:<\"unterminated@example.test>")]
    public void RefusesBadReversePaths(string argument) =>
        Assert.Equal(SmtpPathError.Syntax, SmtpCommandParser.TryParsePath(argument, "FROM:", allowNull: true, out _));

    [Fact]
    public void NullPathOnlyWhereAllowed() =>
        Assert.Equal(SmtpPathError.Syntax, SmtpCommandParser.TryParsePath("TO:<>", "TO:", allowNull: false, out _));

    [Fact]
    public void LocalPartLongerThan64OctetsIsRefused()
    {
        Assert.Equal(SmtpPathError.Syntax, SmtpCommandParser.TryParsePath($"TO:<{new string('a', 65)}@example.test>", "TO:", false, out _));
        Assert.Equal(SmtpPathError.None, SmtpCommandParser.TryParsePath($"TO:<{new string('a', 64)}@example.test>", "TO:", false, out _));
    }

    [Fact]
    public void ParsesMailParameters()
    {
        Assert.Equal(SmtpPathError.None, SmtpCommandParser.TryParsePath("FROM:<a@b.test> SIZE=1000 body=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2B1", "FROM:", true, out var path));
        Assert.Equal("1000", path!.Parameter("SIZE"));
        Assert.Equal("8BITMIME", path.Parameter("BODY"));
        Assert.Equal("", path.Parameter("SMTPUTF8"));
        Assert.Equal("HDRS", path.Parameter("RET"));
        Assert.Equal("QQ+2B1", path.Parameter("ENVID"));
        Assert.Null(path.Parameter("AUTH"));
        Assert.Equal(["SIZE", "BODY", "SMTPUTF8", "RET", "ENVID"], path.Parameters.Select(p => p.Keyword));
    }

    [Fact]
    public void ParsesRcptParameters()
    {
        Assert.Equal(SmtpPathError.None, SmtpCommandParser.TryParsePath("TO:<bob@b.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+40b.test", "TO:", false, out var path));
        Assert.Equal("SUCCESS,FAILURE", path!.Parameter("NOTIFY"));
        Assert.Equal("rfc822;bob+40b.test", path.Parameter("ORCPT"));
    }

    [Theory]
    [InlineData("FROM:<a@b.test> SIZE=")]
    [InlineData("FROM:<a@b.test> =1")]
    [InlineData("FROM:<a@b.test> -X=1")]
    [InlineData("FROM:<a@b.test> X_Y=1")]
    [InlineData("FROM:<a@b.test> X=a=b")]
    public void RefusesMalformedParameters(string argument) =>
        Assert.Equal(SmtpPathError.BadParameter, SmtpCommandParser.TryParsePath(argument, "FROM:", true, out _));

    [Theory]
    [InlineData("FROM:<用户@例子.广告>", "用户@例子.广告")]
    [InlineData("FROM:<josé@bücher.example>", "josé@bücher.example")]
    public void AcceptsInternationalAddressesAndMarksThemNonAscii(string argument, string address)
    {
        Assert.Equal(SmtpPathError.None, SmtpCommandParser.TryParsePath(argument + " SMTPUTF8", "FROM:", true, out var path));
        Assert.Equal(address, path!.Address);
        Assert.False(path.IsAscii);
        Assert.Equal(SmtpPathError.None, SmtpCommandParser.TryParsePath("FROM:<plain@example.test>", "FROM:", true, out var ascii));
        Assert.True(ascii!.IsAscii);
    }

    [Theory]
    [InlineData("TO:<Postmaster>")]
    [InlineData("TO:<postmaster> NOTIFY=NEVER")]
    [InlineData("to: <POSTMASTER> NOTIFY=SUCCESS ORCPT=rfc822;postmaster")]
    public void PostmasterWithoutADomainIsAForwardPathWithParameters(string argument)
    {
        Assert.Equal(SmtpPathError.None, SmtpCommandParser.TryParsePath(argument, "TO:", false, out var path, allowPostmaster: true));
        Assert.Equal(SmtpCommandParser.Postmaster, path!.Address);
        Assert.Equal(argument.Count(c => c == '='), path.Parameters.Count);

        // Only RCPT takes it: "Postmaster" alone is no mailbox.
        Assert.Equal(SmtpPathError.Syntax, SmtpCommandParser.TryParsePath(argument, "TO:", false, out _));
        Assert.Equal(SmtpPathError.Syntax, SmtpCommandParser.TryParsePath("TO:<Postmasters>", "TO:", false, out _, allowPostmaster: true));
    }

    [Theory]
    [InlineData("FROM:<a@b.test> SIZE=1 SIZE=2")]
    [InlineData("FROM:<a@b.test> ENVID=one envid=two")]
    [InlineData("FROM:<a@b.test> RET=FULL RET=HDRS")]
    [InlineData("FROM:<a@b.test> SMTPUTF8 SMTPUTF8")]
    [InlineData("FROM:<a@b.test> NOTIFY=SUCCESS NOTIFY=FAILURE")]
    public void RefusesARepeatedParameter(string argument) =>
        Assert.Equal(SmtpPathError.BadParameter, SmtpCommandParser.TryParsePath(argument, "FROM:", true, out _));

    [Theory]
    [InlineData("rfc822;bob@b.test", true)]
    [InlineData("rfc822;bob+40b.test", true)]
    [InlineData("utf-8;b+C3+B6b@b.test", true)]
    [InlineData("x-local;anything", true)]
    [InlineData("rfc822", false)]
    [InlineData(";bob@b.test", false)]
    [InlineData("rfc822;", false)]
    [InlineData("rfc822;bob+ZZb.test", false)]
    [InlineData("rfc822;bob+4", false)]
    [InlineData("rfc(822);bob@b.test", false)]
    public void ValidatesTheOrcptForm(string value, bool valid) =>
        Assert.Equal(valid, SmtpCommandParser.IsOriginalRecipient(value));

    [Fact]
    public void GivesTheVerbOfALineWithInvalidCharacters()
    {
        Assert.Equal(SmtpVerb.Noop, SmtpCommandParser.VerbOf("NOOP \0x"u8));
        Assert.Equal(SmtpVerb.Mail, SmtpCommandParser.VerbOf([.. "mail FROM:<a@b"u8, 0xFF, .. ">"u8]));
        Assert.Equal(SmtpVerb.Unknown, SmtpCommandParser.VerbOf("GARBAGE\0"u8));
        Assert.Equal(SmtpVerb.Unknown, SmtpCommandParser.VerbOf([0xC3, 0x28, (byte)' ', (byte)'x']));
        Assert.Equal(SmtpVerb.Unknown, SmtpCommandParser.VerbOf(""u8));
    }

    [Fact]
    public void XtextRoundTrips()
    {
        Assert.True(SmtpCommandParser.TryDecodeXtext("a+2Bb+3Dc", out var decoded));
        Assert.Equal("a+b=c", decoded);
        Assert.Equal("a+2Bb+3Dc+20d", SmtpCommandParser.EncodeXtext("a+b=c d"));
        Assert.False(SmtpCommandParser.TryDecodeXtext("bad+2", out _));
        Assert.False(SmtpCommandParser.TryDecodeXtext("bad+ZZ", out _));
    }
}
