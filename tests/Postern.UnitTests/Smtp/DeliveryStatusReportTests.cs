using MimeKit;
using Postern.Server.Smtp.Outbound;
using Postern.Store;

namespace Postern.UnitTests.Smtp;

/// <summary>The RFC 3464 delivery status notifications of outbound delivery.</summary>
public sealed class DeliveryStatusReportTests
{
    private static MimeMessage Bounce(string recipient, string action = "failed")
    {
        var queued = new QueuedMessage(1, "alice@a.test", 1, 10, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 1, null, null, null, []);
        var report = new RecipientReport(new QueuedRecipient(1, recipient, RecipientState.Failed, null, null, null), action, "5.6.7", "554 5.6.7 no SMTPUTF8", "mx.c.test");
        return DeliveryStatusReport.Build("a.example.test", queued, [report], null, DateTimeOffset.UnixEpoch);
    }

    [Theory]
    [InlineData("delivered", "was delivered to the mailboxes")]
    [InlineData("relayed", "do not report delivery")]
    public void The_human_readable_part_says_what_the_action_says(string action, string text)
    {
        // RFC 3464 §2.1 / RFC 6522: the first part explains the report to a person; "delivered" is not "relayed".
        var human = Assert.IsType<TextPart>(Assert.IsType<MultipartReport>(Bounce("bob@c.test", action).Body)[0]);
        Assert.Contains(text, human.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void An_internationalized_recipient_is_reported_in_the_7bit_utf_8_addr_xtext_form()
    {
        // RFC 6533 §3: message/delivery-status is 7-bit (RFC 3464 §2.1); a UTF-8 address goes in it as
        // utf-8-addr-xtext, every non-ASCII character (and '\', '+', '=', controls, space) as \x{HEX}.
        var bounce = Bounce("j\u00f6rg+\u4e2d@e.test");
        var status = Assert.Single(Assert.IsType<MultipartReport>(bounce.Body).OfType<MessageDeliveryStatus>());
        Assert.Equal(@"utf-8; j\x{F6}rg\x{2B}\x{4E2D}@e.test", status.StatusGroups[1]["Final-Recipient"]);

        using var raw = new MemoryStream();
        status.WriteTo(raw);
        Assert.True(System.Text.Ascii.IsValid(raw.ToArray()));
    }

    [Theory]
    [InlineData("id+2B42", "id+42")]
    [InlineData("abc", "abc")]
    [InlineData("bad+0D+0AX-Injected:+20yes", "bad+0D+0AX-Injected:+20yes")]
    public void The_envelope_id_is_reported_decoded_unless_it_would_break_the_field(string envid, string reported)
    {
        // RFC 3461 §4.4: the ENVID as the sender gave it, not in its xtext transport form (as Postfix reports it).
        var queued = new QueuedMessage(1, "alice@a.test", 1, 10, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 1, null, envid, null, []);
        var report = new RecipientReport(new QueuedRecipient(1, "bob@c.test", RecipientState.Failed, null, null, null), "failed", "5.1.1", "550 5.1.1 no such user", "mx.c.test");
        var bounce = DeliveryStatusReport.Build("a.example.test", queued, [report], null, DateTimeOffset.UnixEpoch);
        var status = Assert.Single(Assert.IsType<MultipartReport>(bounce.Body).OfType<MessageDeliveryStatus>());
        Assert.Equal(reported, status.StatusGroups[0]["Original-Envelope-Id"]);
    }

    [Fact]
    public void An_ascii_recipient_is_reported_as_rfc822()
    {
        var status = Assert.Single(Assert.IsType<MultipartReport>(Bounce("bob+x@c.test").Body).OfType<MessageDeliveryStatus>());
        Assert.Equal("rfc822; bob+x@c.test", status.StatusGroups[1]["Final-Recipient"]);
    }

    [Fact]
    public void A_diagnostic_of_several_lines_stays_in_its_recipients_fields()
    {
        // A local error (MailKit's TLS failure, say) has several lines; folding a header field drops the line breaks,
        // which ran the sentences together.
        var queued = new QueuedMessage(1, "alice@a.test", 1, 10, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 1, null, null, null, []);
        var diagnostic = "451 4.7.5 TLS with mx.c.test failed: An error occurred.\n\nThe certificate could not be validated:\r\n\u2022 unable to get local issuer certificate";
        var report = new RecipientReport(new QueuedRecipient(1, "bob@c.test", RecipientState.Failed, null, null, null), "failed", "4.4.7", diagnostic, "mx.c.test");
        using var stream = new MemoryStream();
        DeliveryStatusReport.Build("a.example.test", queued, [report], null, DateTimeOffset.UnixEpoch).WriteTo(stream);

        stream.Position = 0;
        var status = Assert.Single(Assert.IsType<MultipartReport>(MimeMessage.Load(stream).Body).OfType<MessageDeliveryStatus>());
        var group = Assert.Single(status.StatusGroups.Skip(1), g => g.Count > 0);
        Assert.Equal("rfc822; bob@c.test", group["Final-Recipient"]);
        Assert.NotNull(group["Last-Attempt-Date"]);
        var code = string.Join(' ', group["Diagnostic-Code"]!.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("smtp; 451 4.7.5 TLS with mx.c.test failed: An error occurred. The certificate could not be validated: ", code, StringComparison.Ordinal);
    }
}
