using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapUrlTests
{
    [Fact]
    public void Parses_the_relative_forms_catenate_uses()
    {
        Assert.True(ImapUrl.TryParse("/INBOX/;UID=20/;SECTION=1.2.MIME", out var url));
        Assert.Equal(new ImapUrl(null, null, "INBOX", null, 20, url.Section, null, null), url);
        Assert.Equal([1u, 2u], url.Section.Part);
        Assert.Equal(ImapSectionText.Mime, url.Section.Text);

        Assert.True(ImapUrl.TryParse("/Drafts;uidvalidity=385759045/;uid=20/;section=header/;partial=0.1024", out url));
        Assert.Equal("Drafts", url.Mailbox);
        Assert.Equal(385759045u, url.UidValidity);
        Assert.Equal(ImapSectionText.Header, url.Section.Text);
        Assert.Equal(0ul, url.PartialOffset);
        Assert.Equal(1024ul, url.PartialLength);
    }

    [Fact]
    public void Decodes_percent_escapes_in_names_and_sections()
    {
        Assert.True(ImapUrl.TryParse("/Public%20Folders/Entw%C3%BCrfe/;UID=3/;SECTION=HEADER.FIELDS%20(FROM%20TO)", out var url));
        Assert.Equal("Public Folders/Entwürfe", url.Mailbox);
        Assert.Equal(ImapSectionText.HeaderFields, url.Section.Text);
        Assert.Equal(["FROM", "TO"], url.Section.Fields);
        // Characters outside the BMP, escaped or written as they are beside an escape, come through whole.
        Assert.True(ImapUrl.TryParse("/Notes%20%F0%9F%93%9D/;UID=2", out url));
        Assert.Equal("Notes \U0001F4DD", url.Mailbox);
        Assert.True(ImapUrl.TryParse("/%41\U0001F4DD/;UID=2", out url));
        Assert.Equal("A\U0001F4DD", url.Mailbox);
        Assert.True(ImapUrl.TryParse("/a/;UID=1/;PARTIAL=7", out url));
        Assert.Equal(7ul, url.PartialOffset);
        Assert.Null(url.PartialLength);
    }

    [Fact]
    public void Absolute_urls_carry_user_and_host()
    {
        Assert.True(ImapUrl.TryParse("imap://alice%40example.test;AUTH=*@mail.example.test:993/INBOX/;UID=5", out var url));
        Assert.Equal("alice@example.test", url.User);
        Assert.Equal("mail.example.test", url.Host);
        Assert.Equal(5u, url.Uid);
        Assert.True(ImapUrl.TryParse("imap://[::1]/INBOX/;UID=5", out url));
        Assert.Equal("[::1]", url.Host);
    }

    [Theory]
    [InlineData("")]
    [InlineData("INBOX/;UID=1")]
    [InlineData("/INBOX")]
    [InlineData("/;UID=1")]
    [InlineData("/INBOX/;UID=0")]
    [InlineData("/INBOX/;UID=x")]
    [InlineData("/INBOX;UID=1")]
    [InlineData("/INBOX;UIDVALIDITY=1")]
    [InlineData("/INBOX/;UID=1/;SECTION=FOO")]
    [InlineData("/INBOX/;UID=1/;SECTION=1]")]
    [InlineData("/INBOX/;UID=1/;PARTIAL=1.0")]
    [InlineData("/INBOX/;UID=1/;PARTIAL=1.")]
    [InlineData("/INBOX/;UID=1/;PARTIAL=5/;SECTION=1")]
    [InlineData("/INBOX/;UID=1;URLAUTH=anonymous:internal:abc")]
    [InlineData("/INBOX/;UID=1/;EXPIRE=2030-01-01T00:00:00Z")]
    [InlineData("imap://host")]
    [InlineData("imap:///INBOX/;UID=1")]
    public void Refuses_what_names_no_message_part(string text) => Assert.False(ImapUrl.TryParse(text, out _));
}
