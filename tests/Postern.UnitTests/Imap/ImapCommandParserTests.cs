using System.Text;
using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapCommandParserTests
{
    public static TheoryData<string> Modes => ImapFeeding.Modes;

    private static ImapArgumentReader Args(string line, string mode = ImapFeeding.Whole) => ImapFeeding.Single(line + "\r\n", mode).GetReader();

    [Theory]
    [MemberData(nameof(Modes))]
    public void Store_flags(string mode)
    {
        Assert.True(ImapStoreRequest.TryParse(Args("a STORE 2:4 +FLAGS.SILENT (\\Deleted \\seen $Junk)", mode), out var request, out var error), error);
        Assert.Equal(ImapStoreOperation.Add, request.Operation);
        Assert.True(request.Silent);
        Assert.Equal(ImapSystemFlags.Deleted | ImapSystemFlags.Seen, request.Flags.System);
        Assert.Equal(["$Junk"], request.Flags.Keywords);
        Assert.Null(request.UnchangedSince);
    }

    [Fact]
    public void Store_variants()
    {
        Assert.True(ImapStoreRequest.TryParse(Args("a STORE 1 -FLAGS \\Flagged \\Draft"), out var remove, out _));
        Assert.Equal(ImapStoreOperation.Remove, remove.Operation);
        Assert.Equal(ImapSystemFlags.Flagged | ImapSystemFlags.Draft, remove.Flags.System);
        Assert.True(ImapStoreRequest.TryParse(Args("a STORE 1:* (UNCHANGEDSINCE 320162338) FLAGS ()"), out var replace, out _));
        Assert.Equal(ImapStoreOperation.Replace, replace.Operation);
        Assert.Equal(320162338UL, replace.UnchangedSince);
        Assert.Equal(ImapFlagSet.Empty.System, replace.Flags.System);
        Assert.Empty(replace.Flags.Keywords);
    }

    [Theory]
    [InlineData("a STORE 1 FLAGS")]
    [InlineData("a STORE 1 +FLAGS (\\Recent)")]
    [InlineData("a STORE 1 +FLAGS (\\Bogus)")]
    [InlineData("a STORE 1 *FLAGS (\\Seen)")]
    [InlineData("a STORE 1 +FLAGS (\\Seen) extra")]
    [InlineData("a STORE 1 (UNCHANGEDSINCE) FLAGS (\\Seen)")]
    [InlineData("a STORE x FLAGS (\\Seen)")]
    [InlineData("a STORE 1 FLAGS (\"quoted\")")]
    public void Store_rejects(string line) => Assert.False(ImapStoreRequest.TryParse(Args(line), out _, out _));

    [Theory]
    [MemberData(nameof(Modes))]
    public void List_basic_and_extended(string mode)
    {
        Assert.True(ImapListRequest.TryParse(Args("a LIST \"\" *", mode), false, out var basic, out _));
        Assert.Equal(string.Empty, basic.Reference);
        Assert.Equal(["*"], basic.Patterns);
        Assert.False(basic.IsExtended);

        Assert.True(ImapListRequest.TryParse(Args("a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX* \"Entw&APw-rfe\" %) RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))", mode),
            false, out var extended, out var error), error);
        Assert.True(extended.IsExtended);
        Assert.Equal(ImapListSelectOptions.Subscribed | ImapListSelectOptions.RecursiveMatch, extended.Select);
        Assert.Equal(["INBOX*", "Entwürfe", "%"], extended.Patterns);
        Assert.Equal(ImapListReturnOptions.Children | ImapListReturnOptions.SpecialUse | ImapListReturnOptions.Status, extended.Return);
        Assert.Equal(ImapStatusItems.Messages | ImapStatusItems.Unseen, extended.StatusItems);
    }

    [Theory]
    [InlineData("a LIST (RECURSIVEMATCH) \"\" *")]
    [InlineData("a LIST (BOGUS) \"\" *")]
    [InlineData("a LIST \"\"")]
    [InlineData("a LIST \"\" () ")]
    [InlineData("a LIST \"\" * RETURN (STATUS (BOGUS))")]
    [InlineData("a LIST \"\" * RETURN")]
    public void List_rejects(string line) => Assert.False(ImapListRequest.TryParse(Args(line), false, out _, out _));

    [Theory]
    [InlineData("*", "a/b/c", true)]
    [InlineData("%", "a/b", false)]
    [InlineData("a/%", "a/b", true)]
    [InlineData("a/%", "a/b/c", false)]
    [InlineData("a*c", "a/b/c", true)]
    [InlineData("a%c", "a/b/c", false)]
    [InlineData("a%c", "abbc", true)]
    [InlineData("inbox", "INBOX", true)]
    [InlineData("Inbox/%", "INBOX/x", true)]
    [InlineData("Inboxy", "INBOXY", false)]
    [InlineData("", "", true)]
    [InlineData("%", "", true)]
    [InlineData("x", "", false)]
    public void Mailbox_patterns_match(string pattern, string name, bool expected) => Assert.Equal(expected, ImapMailboxPattern.IsMatch(pattern, name, '/'));

    [Fact]
    public void Pathological_patterns_stay_fast()
    {
        var pattern = string.Concat(Enumerable.Repeat("*a", 200)) + "b";
        var name = new string('a', 400);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(ImapMailboxPattern.IsMatch(pattern, name, '/'));
        Assert.True(watch.ElapsedMilliseconds < 2000);
    }

    [Fact]
    public void Reference_and_pattern_combine() => Assert.Equal("a/b/%", ImapMailboxPattern.Combine("a/b/", "%", '/'));

    [Fact]
    public void Status_items()
    {
        Assert.True(ImapStatusRequest.TryParse(Args("a STATUS blurdybloop (UIDNEXT MESSAGES highestmodseq SIZE DELETED RECENT UIDVALIDITY UNSEEN)"), false, out var mailbox, out var items, out _));
        Assert.Equal("blurdybloop", mailbox);
        Assert.Equal((ImapStatusItems)255, items);
        Assert.False(ImapStatusRequest.TryParse(Args("a STATUS x ()"), false, out _, out _, out _));
        Assert.False(ImapStatusRequest.TryParse(Args("a STATUS x (BOGUS)"), false, out _, out _, out _));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Append_single_and_multi(string mode)
    {
        var line = "a APPEND saved-messages (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nHello ~{3+}\r\na\0b (\\Draft) UTF8 (~{2+}\r\nhi)";
        Assert.True(ImapAppendRequest.TryParse(Args(line, mode), false, out var request, out var error), error);
        Assert.Equal("saved-messages", request.Mailbox);
        Assert.Equal(3, request.Messages.Count);
        Assert.Equal(ImapSystemFlags.Seen, request.Messages[0].Flags.System);
        Assert.Equal(new DateTimeOffset(1996, 7, 17, 2, 44, 25, TimeSpan.FromHours(-7)), request.Messages[0].InternalDate);
        Assert.Equal("Hello", Encoding.ASCII.GetString(request.Messages[0].Content.Span));
        Assert.True(request.Messages[1].IsBinary);
        Assert.Null(request.Messages[1].InternalDate);
        Assert.Equal(ImapSystemFlags.Draft, request.Messages[2].Flags.System);
        Assert.Equal("hi", Encoding.ASCII.GetString(request.Messages[2].Content.Span));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Append_catenate_mixed_with_plain_messages(string mode)
    {
        var line = "a APPEND box (\\Seen) CATENATE (URL \"/INBOX/;UID=1/;SECTION=HEADER\" TEXT {6+}\r\nbody\r\n URL /a/;UID=2 TEXT ~{2+}\r\n\0x) {2+}\r\nok";
        Assert.True(ImapAppendRequest.TryParse(Args(line, mode), false, out var request, out var error), error);
        Assert.Equal(2, request.Messages.Count);
        var parts = request.Messages[0].Catenate!;
        Assert.Equal(new ImapCatenateUrl("/INBOX/;UID=1/;SECTION=HEADER"), parts[0]);
        Assert.Equal("body\r\n", Encoding.ASCII.GetString(Assert.IsType<ImapCatenateText>(parts[1]).Content.Span));
        Assert.Equal(new ImapCatenateUrl("/a/;UID=2"), parts[2]);
        Assert.True(Assert.IsType<ImapCatenateText>(parts[3]).IsBinary);
        Assert.True(request.Messages[0].IsBinary);
        Assert.Equal(ImapSystemFlags.Seen, request.Messages[0].Flags.System);
        Assert.Null(request.Messages[1].Catenate);
        Assert.Equal("ok", Encoding.ASCII.GetString(request.Messages[1].Content.Span));
    }

    [Theory]
    [InlineData("a APPEND box")]
    [InlineData("a APPEND box \"hello\"")]
    [InlineData("a APPEND box (\\Recent) {1+}\r\nx")]
    [InlineData("a APPEND box \"32-Jul-1996 02:44:25 -0700\" {1+}\r\nx")]
    [InlineData("a APPEND box UTF8 ({1+}\r\nx)")]
    [InlineData("a APPEND box CATENATE ()")]
    [InlineData("a APPEND box CATENATE (TEXT \"x\")")]
    [InlineData("a APPEND box CATENATE (URL)")]
    [InlineData("a APPEND box CATENATE (BODY {1+}\r\nx)")]
    [InlineData("a APPEND box CATENATE TEXT {1+}\r\nx")]
    public void Append_rejects(string line) => Assert.False(ImapAppendRequest.TryParse(Args(line), false, out _, out _));

    [Theory]
    [InlineData("a MYRIGHTS INBOX", 0, true)]
    [InlineData("a MYRIGHTS INBOX extra", 0, false)]
    [InlineData("a LISTRIGHTS \"Public Folders/x\" bob@example.test", 1, true)]
    [InlineData("a LISTRIGHTS INBOX", 1, false)]
    [InlineData("a SETACL INBOX bob +lr", 2, true)]
    [InlineData("a SETACL INBOX bob", 2, false)]
    [InlineData("a GETACL", 0, false)]
    public void Acl_commands_take_a_mailbox_and_their_strings(string line, int strings, bool valid) =>
        Assert.Equal(valid, ImapSimpleRequests.TryParseAcl(Args(line), false, strings, out _, out _, out _));

    [Fact]
    public void Select_with_condstore_and_qresync()
    {
        Assert.True(ImapSelectRequest.TryParse(Args("a SELECT inbox"), false, out var plain, out _));
        Assert.Equal("INBOX", plain.Mailbox);
        Assert.False(plain.CondStore);
        Assert.True(ImapSelectRequest.TryParse(Args("a SELECT INBOX (CONDSTORE)"), false, out var condstore, out _));
        Assert.True(condstore.CondStore);
        Assert.Null(condstore.QResync);

        // RFC 7162 §3.2.5.2 example.
        Assert.True(ImapSelectRequest.TryParse(Args("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:5,11 1:5,11)))"), false, out var qresync, out var error), error);
        Assert.True(qresync.CondStore);
        Assert.Equal(67890007u, qresync.QResync!.UidValidity);
        Assert.Equal(20050715194045000UL, qresync.QResync.ModSeq);
        Assert.Equal("41,43:211,214:541", qresync.QResync.KnownUids!.ToString());
        Assert.Equal("1:5,11", qresync.QResync.KnownSequenceSet!.ToString());
        Assert.True(ImapSelectRequest.TryParse(Args("a EXAMINE x (QRESYNC (1 2))"), false, out var minimal, out _));
        Assert.Null(minimal.QResync!.KnownUids);
    }

    [Theory]
    [InlineData("a SELECT")]
    [InlineData("a SELECT x (BOGUS)")]
    [InlineData("a SELECT x (QRESYNC (0 1))")]
    [InlineData("a SELECT x (QRESYNC (1))")]
    [InlineData("a SELECT x (QRESYNC (1 2 3 (1)))")]
    [InlineData("a SELECT x (QRESYNC (1 2 *))")]
    [InlineData("a SELECT x (QRESYNC (1 2 1:*))")]
    [InlineData("a SELECT x (QRESYNC (1 2 1:5 (1:* 1:5)))")]
    [InlineData("a SELECT x (QRESYNC (1 2 (1:5 5:*)))")]
    [InlineData("a SELECT x y")]
    public void Select_rejects(string line) => Assert.False(ImapSelectRequest.TryParse(Args(line), false, out _, out _));

    [Fact]
    public void Select_of_a_name_that_is_not_modified_utf7_parses_to_a_name_no_mailbox_has()
    {
        Assert.True(ImapSelectRequest.TryParse(Args("a SELECT &Jjo"), false, out var request, out _));
        Assert.True(ImapMailboxName.IsUndecodable(request.Mailbox));
    }

    [Fact]
    public void Simple_verbs()
    {
        Assert.True(ImapSimpleRequests.TryParseLogin(Args("a LOGIN smith {7+}\r\nsesame!"), out var user, out var password));
        Assert.Equal(("smith", "sesame!"), (user, password));
        Assert.False(ImapSimpleRequests.TryParseLogin(Args("a LOGIN smith"), out _, out _));

        Assert.True(ImapSimpleRequests.TryParseAuthenticate(Args("a AUTHENTICATE plain AGZvbwBiYXI="), out var mechanism, out var initial));
        Assert.Equal(("PLAIN", "AGZvbwBiYXI="), (mechanism, initial));
        Assert.True(ImapSimpleRequests.TryDecodeSaslResponse(initial!, out var decoded, out var cancelled));
        Assert.False(cancelled);
        Assert.Equal("\0foo\0bar", Encoding.ASCII.GetString(decoded));
        Assert.True(ImapSimpleRequests.TryDecodeSaslResponse("*", out _, out cancelled));
        Assert.True(cancelled);
        Assert.False(ImapSimpleRequests.TryDecodeSaslResponse("%%%", out _, out _));

        Assert.True(ImapSimpleRequests.TryParseEnable(Args("a ENABLE condstore Utf8=Accept"), out var capabilities));
        Assert.Equal(["CONDSTORE", "UTF8=ACCEPT"], capabilities);

        Assert.True(ImapSimpleRequests.TryParseId(Args("a ID (\"name\" \"sodr\" \"version\" NIL)"), out var id));
        Assert.Equal([new("name", "sodr"), new("version", null)], id);
        Assert.True(ImapSimpleRequests.TryParseId(Args("a ID NIL"), out id));
        Assert.Empty(id);
        Assert.False(ImapSimpleRequests.TryParseId(Args("a ID (\"name\")"), out _));

        Assert.True(ImapSimpleRequests.TryParseCopy(Args("a UID MOVE 1:3 \"Gel&APY-scht\""), false, out var set, out var target));
        Assert.Equal(("1:3", "Gelöscht"), (set.ToString(), target));

        Assert.True(ImapSimpleRequests.TryParseCreate(Args("a CREATE Junk (USE (\\Junk))"), false, out var created, out var uses));
        Assert.Equal("Junk", created);
        Assert.Equal(["\\Junk"], uses);

        Assert.True(ImapSimpleRequests.TryParseRename(Args("a RENAME a b"), false, out var from, out var to));
        Assert.Equal(("a", "b"), (from, to));

        Assert.True(ImapSimpleRequests.TryParseSetQuota(Args("a SETQUOTA \"\" (STORAGE 512 message 10)"), out var root, out var limits));
        Assert.Equal(string.Empty, root);
        Assert.Equal([new("STORAGE", 512UL), new("MESSAGE", 10UL)], limits);

        Assert.True(ImapSimpleRequests.TryParseCompress(Args("a COMPRESS deflate"), out var algorithm));
        Assert.Equal("DEFLATE", algorithm);
    }
}
