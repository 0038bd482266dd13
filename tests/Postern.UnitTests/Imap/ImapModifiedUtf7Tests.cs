using System.Text;
using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapModifiedUtf7Tests
{
    [Theory]
    [InlineData("INBOX", "INBOX")]
    [InlineData("&", "&-")]
    [InlineData("Tom & Jerry", "Tom &- Jerry")]
    [InlineData("~peter/mail/日本語/台北", "~peter/mail/&ZeVnLIqe-/&U,BTFw-")]
    [InlineData("Entwürfe", "Entw&APw-rfe")]
    [InlineData("Gelöschte Elemente", "Gel&APY-schte Elemente")]
    [InlineData("😀", "&2D3eAA-")]
    [InlineData("a\tb", "a&AAk-b")]
    public void Encodes_as_rfc_3501_shows(string name, string encoded)
    {
        Assert.Equal(encoded, ImapModifiedUtf7.Encode(name));
        Assert.True(ImapModifiedUtf7.TryDecode(encoded, out var decoded));
        Assert.Equal(name, decoded);
    }

    [Theory]
    [InlineData("&")]
    [InlineData("&ZeVnLIqe")]
    [InlineData("&AGE-")]
    [InlineData("&ZeVnLIqe-&U,BTFw-")]
    [InlineData("&ZeVnLIq-")]
    [InlineData("&ZeV/LIqe-")]
    [InlineData("&2D0-")]
    [InlineData("&3gA-")]
    [InlineData("caf\u00e9")]
    [InlineData("&A-")]
    public void Rejects_malformed_or_non_canonical_input(string encoded) => Assert.False(ImapModifiedUtf7.TryDecode(encoded, out _));

    [Fact]
    public void Round_trips_random_names()
    {
        var random = new Random(3501);
        for (var n = 0; n < 500; n++)
        {
            var builder = new StringBuilder();
            var length = random.Next(0, 20);
            for (var i = 0; i < length; i++)
            {
                builder.Append(random.Next(6) switch
                {
                    0 => '&',
                    1 => (char)random.Next(0x20, 0x7F),
                    2 => (char)random.Next(0xA0, 0x800),
                    3 => (char)random.Next(0x4E00, 0x9FFF),
                    4 => char.ConvertFromUtf32(random.Next(0x10000, 0x10FFFF))[0],
                    _ => (char)random.Next(1, 0x20),
                });
                if (char.IsHighSurrogate(builder[^1]))
                {
                    builder.Append((char)random.Next(0xDC00, 0xE000));
                }
            }

            var name = builder.ToString();
            var encoded = ImapModifiedUtf7.Encode(name);
            Assert.True(Ascii.IsValid(encoded));
            Assert.True(ImapModifiedUtf7.TryDecode(encoded, out var decoded), encoded);
            Assert.Equal(name, decoded);
        }
    }

    [Theory]
    [InlineData("inbox", false, "INBOX")]
    [InlineData("Entw&APw-rfe", false, "Entwürfe")]
    [InlineData("Tom &- Jerry", false, "Tom & Jerry")]
    [InlineData("Tom & Jerry", true, "Tom & Jerry")]
    [InlineData("Entwürfe", true, "Entwürfe")]
    public void Mailbox_names_decode_by_mode(string wire, bool utf8, string expected)
    {
        Assert.True(ImapMailboxName.TryDecode(Encoding.UTF8.GetBytes(wire), utf8, out var name));
        Assert.Equal(expected, name);
    }

    [Fact]
    public void Mailbox_names_reject_bad_utf8_and_bad_utf7()
    {
        Assert.False(ImapMailboxName.TryDecode([0x66, 0xC3, 0x28], true, out _));
    }

    [Fact]
    public void Eight_bit_names_without_utf8_and_the_empty_name_parse_but_name_no_mailbox()
    {
        // RFC 3501 §9: a quoted string is 7-bit, so without UTF8=ACCEPT an 8-bit name is no name (NO, not BAD), valid UTF-8 or not.
        Assert.True(ImapMailboxName.TryDecode("R\u00e9al"u8, false, out var name));
        Assert.True(ImapMailboxName.IsUndecodable(name));
        Assert.True(ImapMailboxName.TryDecode([0x66, 0xC3, 0x28], false, out name));
        Assert.True(ImapMailboxName.IsUndecodable(name));

        // "" is a valid astring: the command answers NO for it.
        Assert.True(ImapMailboxName.TryDecode(""u8, false, out name));
        Assert.Equal(string.Empty, name);
    }

    [Fact]
    public void Names_that_are_not_modified_utf7_parse_but_can_name_no_mailbox()
    {
        // Valid astrings, so not a syntax error (imaptest "atoms": SELECT answers NO, LIST matches nothing).
        Assert.True(ImapMailboxName.TryDecode("Tom & Jerry"u8, false, out var name));
        Assert.True(ImapMailboxName.IsUndecodable(name));
        Assert.True(ImapMailboxName.TryDecode("!#$&'+,-.0123456789:;<=>?@^_`|[}"u8, false, out name));
        Assert.True(ImapMailboxName.IsUndecodable(name));
        Assert.False(ImapMailboxPattern.IsMatch(ImapMailboxName.DecodeModifiedUtf7("&Jjo*"), "&Jjo", '/'));

        Assert.True(ImapMailboxName.TryDecode("Tom &- Jerry"u8, false, out name));
        Assert.Equal("Tom & Jerry", name);
        Assert.False(ImapMailboxName.IsUndecodable(name));
    }
}
