using Postern.Protocols.Smtp;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>
/// A recipient accepted at RCPT time: a local INBOX (with its account and quota, 0 for none), or an address for the
/// outbound queue.
/// </summary>
internal sealed record SmtpRecipient(string Address, long? LocalMailboxId, string? Notify, string? OriginalRecipient, long AccountId = 0, long QuotaBytes = 0);

/// <summary>The envelope of the mail transaction in progress (MAIL → RCPT… → DATA/BDAT).</summary>
internal sealed class SmtpTransaction(MessageMemoryBudget budget)
{
    public SmtpPath? Sender { get; set; }

    public bool SmtpUtf8 { get; set; }

    public string? EnvelopeId { get; set; }

    public string? Ret { get; set; }

    public List<SmtpRecipient> Recipients { get; } = [];

    /// <summary>Content received so far (Received header first); reused across transactions of a session.</summary>
    public BudgetedMessageBuffer Content { get; } = new(budget);

    /// <summary>Length of the trace header at the start of <see cref="Content"/>.</summary>
    public int TraceLength { get; set; }

    /// <summary>The size MAIL FROM declared with SIZE (RFC 1870), or 0.</summary>
    public long DeclaredSize { get; set; }

    /// <summary>Octets of message content seen by BDAT, counted even past the limit.</summary>
    public long ChunkedSize { get; set; }

    public string QueueId { get; set; } = "";

    public void Reset()
    {
        Sender = null;
        SmtpUtf8 = false;
        EnvelopeId = null;
        Ret = null;
        Recipients.Clear();
        TraceLength = 0;
        DeclaredSize = 0;
        ChunkedSize = 0;
        Content.Reset();
    }

    public OutboundEnvelope? Outbound()
    {
        List<OutboundRecipient>? remote = null;
        foreach (var r in Recipients)
        {
            if (r.LocalMailboxId is null)
            {
                (remote ??= []).Add(new OutboundRecipient(r.Address, r.Notify, r.OriginalRecipient));
            }
        }

        return remote is null ? null : new OutboundEnvelope(Sender?.Address ?? "", remote, EnvelopeId, Ret);
    }

    public IReadOnlyList<long> LocalMailboxes()
    {
        var ids = new List<long>();
        foreach (var r in Recipients)
        {
            if (r.LocalMailboxId is { } id && !ids.Contains(id))
            {
                ids.Add(id);
            }
        }

        return ids;
    }
}
