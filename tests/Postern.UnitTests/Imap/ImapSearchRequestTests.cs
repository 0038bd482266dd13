using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapSearchRequestTests
{
    public static TheoryData<string> Modes => ImapFeeding.Modes;

    private static ImapSearchRequest Parse(string arguments, string mode = ImapFeeding.Whole)
    {
        var command = ImapFeeding.Single("s SEARCH " + arguments + "\r\n", mode);
        Assert.True(ImapSearchRequest.TryParse(command.GetReader(), out var request, out var error), error);
        return request;
    }

    private static bool Fails(string arguments, int maxDepth = ImapSearchRequest.DefaultMaxDepth)
    {
        var limits = new ImapLimits { MaxNestingDepth = 1000, MaxLineLength = 1 << 20 };
        var command = ImapFeeding.Single("s SEARCH " + arguments + "\r\n", ImapFeeding.Whole, limits);
        return !ImapSearchRequest.TryParse(command.GetReader(), out _, out var error, maxDepth) && error.Length > 0;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Parses_the_rfc_example(string mode)
    {
        // RFC 3501 §6.4.4 example.
        var request = Parse("FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", mode);
        var and = Assert.IsType<ImapSearchAnd>(request.Key);
        Assert.Equal(new ImapSearchFlagKey(ImapSearchFlag.Flagged, true), and.Keys[0]);
        Assert.Equal(new ImapSearchDate(false, ImapSearchDateComparison.Since, new DateOnly(1994, 2, 1)), and.Keys[1]);
        var not = Assert.IsType<ImapSearchNot>(and.Keys[2]);
        Assert.Equal(new ImapSearchHeader("FROM", "Smith"), not.Key);
        Assert.Null(request.Return);
        Assert.Null(request.Charset);
    }

    [Fact]
    public void Parses_every_simple_key()
    {
        var request = Parse("ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN");
        var keys = Assert.IsType<ImapSearchAnd>(request.Key).Keys;
        Assert.Equal(14, keys.Count);
        Assert.IsType<ImapSearchAll>(keys[0]);
        Assert.IsType<ImapSearchNew>(keys[5]);
        Assert.IsType<ImapSearchOld>(keys[6]);
        Assert.Equal(new ImapSearchFlagKey(ImapSearchFlag.Seen, false), keys[13]);
    }

    [Fact]
    public void Parses_keys_with_arguments()
    {
        var request = Parse("BCC a CC b TO c SUBJECT {5+}\r\nhello BODY x TEXT \"y z\" HEADER X-Spam yes KEYWORD $Junk UNKEYWORD foo " +
                            "BEFORE 1-Jan-2020 ON \"2-Jan-2020\" SENTBEFORE 3-Jan-2020 SENTON 4-Jan-2020 SENTSINCE 5-Jan-2020 " +
                            "LARGER 100 SMALLER 9999999999 UID 1:5,9 1,2:* $ OLDER 60 YOUNGER 3600");
        var keys = Assert.IsType<ImapSearchAnd>(request.Key).Keys;
        Assert.Equal(new ImapSearchHeader("BCC", "a"), keys[0]);
        Assert.Equal(new ImapSearchHeader("SUBJECT", "hello"), keys[3]);
        Assert.Equal(new ImapSearchText(false, "x"), keys[4]);
        Assert.Equal(new ImapSearchText(true, "y z"), keys[5]);
        Assert.Equal(new ImapSearchHeader("X-SPAM", "yes"), keys[6]);
        Assert.Equal(new ImapSearchKeyword("$Junk", true), keys[7]);
        Assert.Equal(new ImapSearchKeyword("foo", false), keys[8]);
        Assert.Equal(new ImapSearchDate(false, ImapSearchDateComparison.Before, new DateOnly(2020, 1, 1)), keys[9]);
        Assert.Equal(new ImapSearchDate(false, ImapSearchDateComparison.On, new DateOnly(2020, 1, 2)), keys[10]);
        Assert.Equal(new ImapSearchDate(true, ImapSearchDateComparison.Since, new DateOnly(2020, 1, 5)), keys[13]);
        Assert.Equal(new ImapSearchSize(true, 100), keys[14]);
        Assert.Equal(new ImapSearchSize(false, 9999999999), keys[15]);
        var uid = Assert.IsType<ImapSearchSequence>(keys[16]);
        Assert.True(uid.Uid);
        Assert.Equal("1:5,9", uid.Set.ToString());
        var sequence = Assert.IsType<ImapSearchSequence>(keys[17]);
        Assert.False(sequence.Uid);
        Assert.True(Assert.IsType<ImapSearchSequence>(keys[18]).Set.IsSavedResult);
        Assert.Equal(new ImapSearchAge(true, 60), keys[19]);
        Assert.Equal(new ImapSearchAge(false, 3600), keys[20]);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Parses_or_not_and_parentheses(string mode)
    {
        var request = Parse("OR (SEEN FLAGGED) NOT OR DELETED 1:3 ANSWERED", mode);
        var and = Assert.IsType<ImapSearchAnd>(request.Key);
        var or = Assert.IsType<ImapSearchOr>(and.Keys[0]);
        Assert.Equal(2, Assert.IsType<ImapSearchAnd>(or.Left).Keys.Count);
        var not = Assert.IsType<ImapSearchNot>(or.Right);
        Assert.IsType<ImapSearchOr>(not.Key);
        Assert.Equal(new ImapSearchFlagKey(ImapSearchFlag.Answered, true), and.Keys[1]);
    }

    [Fact]
    public void Parses_charset_return_options_and_modseq()
    {
        var request = Parse("RETURN (MIN MAX COUNT SAVE) CHARSET UTF-8 MODSEQ \"/flags/\\\\draft\" all 620162338 TEXT \"ü\"");
        Assert.Equal(ImapSearchReturnOptions.Min | ImapSearchReturnOptions.Max | ImapSearchReturnOptions.Count | ImapSearchReturnOptions.Save, request.Return);
        Assert.Equal("UTF-8", request.Charset);
        Assert.True(ImapSearchRequest.IsSupportedCharset(request.Charset));
        Assert.False(ImapSearchRequest.IsSupportedCharset("KOI8-R"));
        var keys = Assert.IsType<ImapSearchAnd>(request.Key).Keys;
        Assert.Equal(new ImapSearchModSeq(620162338, "/flags/\\draft", "all"), keys[0]);
        Assert.Equal(new ImapSearchText(true, "ü"), keys[1]);
        Assert.Equal(new ImapSearchModSeq(5, null, null), Parse("MODSEQ 5").Key);
    }

    [Fact]
    public void Parses_save_date_keys()
    {
        var and = Assert.IsType<ImapSearchAnd>(Parse("SAVEDBEFORE 1-Feb-2026 SAVEDON 2-Feb-2026 SAVEDSINCE 3-Feb-2026 SAVEDATESUPPORTED").Key);
        Assert.Equal(new ImapSearchSaveDate(ImapSearchDateComparison.Before, new DateOnly(2026, 2, 1)), and.Keys[0]);
        Assert.Equal(new ImapSearchSaveDate(ImapSearchDateComparison.On, new DateOnly(2026, 2, 2)), and.Keys[1]);
        Assert.Equal(new ImapSearchSaveDate(ImapSearchDateComparison.Since, new DateOnly(2026, 2, 3)), and.Keys[2]);
        Assert.IsType<ImapSearchSaveDateSupported>(and.Keys[3]);
        Assert.True(Fails("SAVEDON"));
        Assert.True(Fails("SAVEDSINCE 32-Feb-2026"));
    }

    [Fact]
    public void Parses_object_id_keys()
    {
        var request = Parse("EMAILID E12 NOT THREADID T_a-1");
        var and = Assert.IsType<ImapSearchAnd>(request.Key);
        Assert.Equal(new ImapSearchObjectId(false, "E12"), and.Keys[0]);
        Assert.Equal(new ImapSearchObjectId(true, "T_a-1"), Assert.IsType<ImapSearchNot>(and.Keys[1]).Key);
        Assert.True(Fails("EMAILID " + new string('a', 256)));
        Assert.False(Fails("EMAILID " + new string('a', 255)));
    }

    [Fact]
    public void Empty_return_list_means_all() => Assert.Equal(ImapSearchReturnOptions.All, Parse("RETURN () ALL").Return);

    [Theory]
    [InlineData("")]
    [InlineData("FOO")]
    [InlineData("FROM")]
    [InlineData("HEADER Subject")]
    [InlineData("BEFORE 32-Jan-2020")]
    [InlineData("LARGER x")]
    [InlineData("UID x")]
    [InlineData("OR SEEN")]
    [InlineData("NOT")]
    [InlineData("()")]
    [InlineData("RETURN (BOGUS) ALL")]
    [InlineData("RETURN ALL")]
    [InlineData("CHARSET")]
    [InlineData("KEYWORD \\Seen")]
    [InlineData("MODSEQ \"/flags/x\" bogus 5")]
    [InlineData("OLDER 0")]
    [InlineData("EMAILID")]
    [InlineData("EMAILID \"a b\"")]
    [InlineData("THREADID a.b")]
    [InlineData("0")]
    [InlineData("FROM (x)")]
    public void Rejects_malformed_searches(string arguments) => Assert.True(Fails(arguments));

    [Fact]
    public void Deep_chains_of_not_are_refused_without_recursion_trouble()
    {
        Assert.True(Fails(string.Concat(Enumerable.Repeat("NOT ", 10_000)) + "ALL"));
        Assert.False(Fails(string.Concat(Enumerable.Repeat("NOT ", 10)) + "ALL"));
        Assert.True(Fails(string.Concat(Enumerable.Repeat("OR ALL ", 100)) + "ALL", maxDepth: 50));
    }
}
