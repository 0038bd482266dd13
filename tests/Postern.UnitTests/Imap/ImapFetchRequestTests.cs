using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapFetchRequestTests
{
    public static TheoryData<string> Modes => ImapFeeding.Modes;

    private static ImapFetchRequest Parse(string arguments, string mode = ImapFeeding.Whole)
    {
        var command = ImapFeeding.Single("f FETCH " + arguments + "\r\n", mode);
        Assert.True(ImapFetchRequest.TryParse(command.GetReader(), out var request, out var error), error);
        return request;
    }

    private static string? Error(string arguments)
    {
        var command = ImapFeeding.Single("f FETCH " + arguments + "\r\n");
        return ImapFetchRequest.TryParse(command.GetReader(), out _, out var error) ? null : error;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Parses_every_attribute(string mode)
    {
        var request = Parse("1:* (FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT ENVELOPE BODY BODYSTRUCTURE UID MODSEQ)", mode);
        Assert.Equal(
            [
                ImapFetchItemKind.Flags, ImapFetchItemKind.InternalDate, ImapFetchItemKind.Rfc822, ImapFetchItemKind.Rfc822Header,
                ImapFetchItemKind.Rfc822Size, ImapFetchItemKind.Rfc822Text, ImapFetchItemKind.Envelope, ImapFetchItemKind.Body,
                ImapFetchItemKind.BodyStructure, ImapFetchItemKind.Uid, ImapFetchItemKind.ModSeq,
            ],
            request.Items.Select(i => i.Kind));
        Assert.Equal("1:*", request.Set.ToString());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Parses_object_ids_and_preview_with_its_lazy_modifier(string mode)
    {
        var request = Parse("1 (EMAILID THREADID PREVIEW (LAZY) UID preview SAVEDATE)", mode);
        Assert.Equal(
            [ImapFetchItemKind.EmailId, ImapFetchItemKind.ThreadId, ImapFetchItemKind.Preview, ImapFetchItemKind.Uid, ImapFetchItemKind.Preview, ImapFetchItemKind.SaveDate],
            request.Items.Select(i => i.Kind));
        Assert.Equal("EMAILID", request.Items[0].ResponseName);
        Assert.Equal("PREVIEW", request.Items[2].ResponseName);
        Assert.False(request.Items[2].SetsSeen);
    }

    [Theory]
    [InlineData("ALL", new[] { ImapFetchItemKind.Flags, ImapFetchItemKind.InternalDate, ImapFetchItemKind.Rfc822Size, ImapFetchItemKind.Envelope })]
    [InlineData("fast", new[] { ImapFetchItemKind.Flags, ImapFetchItemKind.InternalDate, ImapFetchItemKind.Rfc822Size })]
    [InlineData("FULL", new[] { ImapFetchItemKind.Flags, ImapFetchItemKind.InternalDate, ImapFetchItemKind.Rfc822Size, ImapFetchItemKind.Envelope, ImapFetchItemKind.Body })]
    [InlineData("uid", new[] { ImapFetchItemKind.Uid })]
    public void Expands_macros_and_single_attributes(string item, ImapFetchItemKind[] expected) =>
        Assert.Equal(expected, Parse("1 " + item).Items.Select(i => i.Kind));

    [Fact]
    public void Macros_are_not_allowed_inside_a_list() => Assert.NotNull(Error("1 (ALL)"));

    [Theory]
    [MemberData(nameof(Modes))]
    public void Parses_body_sections_and_partials(string mode)
    {
        var request = Parse("2 (BODY[] BODY.PEEK[HEADER] BODY[1.2.TEXT]<10.20> body.peek[3.mime] BODY[HEADER.FIELDS (From \"Subject\")] BODY[4.HEADER.FIELDS.NOT (X-A)])", mode);
        var items = request.Items;
        Assert.All(items, i => Assert.Equal(ImapFetchItemKind.BodySection, i.Kind));
        Assert.Equal(ImapSection.Whole, items[0].Section);
        Assert.False(items[0].Peek);
        Assert.True(items[0].SetsSeen);
        Assert.True(items[1].Peek);
        Assert.False(items[1].SetsSeen);
        Assert.Equal(ImapSectionText.Header, items[1].Section!.Text);
        Assert.Equal([1u, 2u], items[2].Section!.Part);
        Assert.Equal(ImapSectionText.Text, items[2].Section!.Text);
        Assert.Equal(10UL, items[2].PartialOffset);
        Assert.Equal(20UL, items[2].PartialLength);
        Assert.Equal("BODY[1.2.TEXT]<10>", items[2].ResponseName);
        Assert.Equal(ImapSectionText.Mime, items[3].Section!.Text);
        Assert.Equal("BODY[3.MIME]", items[3].ResponseName);
        Assert.Equal(["From", "Subject"], items[4].Section!.Fields);
        Assert.Equal("BODY[HEADER.FIELDS (From Subject)]", items[4].ResponseName);
        Assert.Equal(ImapSectionText.HeaderFieldsNot, items[5].Section!.Text);
        Assert.Equal([4u], items[5].Section!.Part);
    }

    [Fact]
    public void Parses_binary_items()
    {
        var request = Parse("1 (BINARY[1] BINARY.PEEK[2.3]<0.5> BINARY.SIZE[1] BINARY[])");
        Assert.Equal(ImapFetchItemKind.Binary, request.Items[0].Kind);
        Assert.False(request.Items[0].Peek);
        Assert.True(request.Items[1].Peek);
        Assert.Equal(5UL, request.Items[1].PartialLength);
        Assert.Equal(ImapFetchItemKind.BinarySize, request.Items[2].Kind);
        Assert.Equal("BINARY.SIZE[1]", request.Items[2].ResponseName);
        Assert.Empty(request.Items[3].Section!.Part);
    }

    [Theory]
    [InlineData("1 (BODY[MIME])")]
    [InlineData("1 (BODY[0])")]
    [InlineData("1 (BODY[1.])")]
    [InlineData("1 (BODY[01])")]
    [InlineData("1 (BODY[FOO])")]
    [InlineData("1 (BODY[HEADER.FIELDS])")]
    [InlineData("1 (BODY[HEADER.FIELDS ()])")]
    [InlineData("1 (BODY[TEXT (A)])")]
    [InlineData("1 (BODY[]<1>)")]
    [InlineData("1 (BODY[]<1.0>)")]
    [InlineData("1 (BODY[]<a.b>)")]
    [InlineData("1 (BINARY[HEADER])")]
    [InlineData("1 (BINARY.SIZE[1]<0.1>)")]
    [InlineData("1 (BODY.PEEK)")]
    [InlineData("1 (FLAGS (X))")]
    [InlineData("1 ()")]
    [InlineData("1 FOO")]
    [InlineData("0 FLAGS")]
    [InlineData("1")]
    [InlineData("1 FLAGS (VANISHED)")]
    [InlineData("1 FLAGS (CHANGEDSINCE x)")]
    [InlineData("1 FLAGS extra")]
    [InlineData("1 (PREVIEW (EAGER))")]
    [InlineData("1 (PREVIEW ())")]
    [InlineData("1 (FLAGS (LAZY))")]
    [InlineData("1 EMAILID[]")]
    public void Rejects_malformed_fetches(string arguments) => Assert.NotNull(Error(arguments));

    [Fact]
    public void Parses_condstore_and_qresync_modifiers()
    {
        var request = Parse("1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)");
        Assert.Equal(12345UL, request.ChangedSince);
        Assert.True(request.Vanished);

        // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
        Assert.Contains(request.Items, i => i.Kind == ImapFetchItemKind.ModSeq);
    }
}
