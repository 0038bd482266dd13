using Postern.Protocols.Imap;
using Postern.Server.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapRenderedItemsTests
{
    private static byte[] RenderString(ImapRenderedItems items, long blobId, ImapFetchItemKind kind, bool utf8, string value) =>
        items.Render(blobId, kind, utf8, w => w.BeginList().String(value).EndList());

    [Fact]
    public void A_value_is_kept_for_its_content_item_and_utf8_mode_only()
    {
        var items = new ImapRenderedItems();
        var written = RenderString(items, 7, ImapFetchItemKind.Envelope, utf8: false, "J\u00f6rg");

        // Without UTF-8 an 8-bit string is a literal; the value starts with the list, no leading space.
        Assert.Equal("({5}\r\nJ\u00f6rg)", System.Text.Encoding.UTF8.GetString(written));
        Assert.Same(written, items.TryGet(7, ImapFetchItemKind.Envelope, utf8: false));
        Assert.Null(items.TryGet(7, ImapFetchItemKind.Envelope, utf8: true));
        Assert.Null(items.TryGet(7, ImapFetchItemKind.BodyStructure, utf8: false));
        Assert.Null(items.TryGet(8, ImapFetchItemKind.Envelope, utf8: false));
    }

    [Fact]
    public void Memory_stays_within_the_capacity_and_the_newest_values_are_kept()
    {
        var items = new ImapRenderedItems(capacityBytes: 20_000);
        var value = new string('x', 100);
        for (var blob = 1; blob <= 2_000; blob++)
        {
            RenderString(items, blob, ImapFetchItemKind.Envelope, utf8: false, value);
        }

        var kept = Enumerable.Range(1, 2_000).Count(b => items.TryGet(b, ImapFetchItemKind.Envelope, utf8: false) is not null);
        Assert.InRange(kept, 1, 20_000 / 100);
        Assert.NotNull(items.TryGet(2_000, ImapFetchItemKind.Envelope, utf8: false));
        Assert.Null(items.TryGet(1, ImapFetchItemKind.Envelope, utf8: false));
    }

    [Fact]
    public void A_value_read_from_the_old_generation_survives_the_next_turnover()
    {
        var items = new ImapRenderedItems(capacityBytes: 2 * (100 + 64) * 10);
        RenderString(items, 1, ImapFetchItemKind.Body, utf8: true, new string('x', 96));
        for (var blob = 2; blob <= 11; blob++)
        {
            RenderString(items, blob, ImapFetchItemKind.Body, utf8: true, new string('x', 96));
        }

        // Blob 1 is in the old generation now; reading it brings it back into the young one.
        Assert.NotNull(items.TryGet(1, ImapFetchItemKind.Body, utf8: true));
        for (var blob = 12; blob <= 20; blob++)
        {
            RenderString(items, blob, ImapFetchItemKind.Body, utf8: true, new string('x', 96));
        }

        Assert.NotNull(items.TryGet(1, ImapFetchItemKind.Body, utf8: true));
        Assert.Null(items.TryGet(2, ImapFetchItemKind.Body, utf8: true));
    }
}
