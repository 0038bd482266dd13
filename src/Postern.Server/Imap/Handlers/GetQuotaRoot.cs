using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 9208 §4.2.</summary>
internal sealed class GetQuotaRoot : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseMailbox(command.GetReader(), session.Utf8Enabled, out var name))
        {
            session.BadArguments(command, "GETQUOTAROOT needs a mailbox");
            return;
        }

        var mailbox = await session.Mail.GetMailboxAsync(session.Account!.Id, ImapSession.NormalizeMailbox(name), cancellationToken);
        if (mailbox is null)
        {
            session.No(command, "No such mailbox", "NONEXISTENT");
            return;
        }

        // RFC 9208 §4.3: a mailbox under no quota has a QUOTAROOT response that names no root. Public folders belong to the
        // organization and count against no user's quota.
        var quota = ImapPublicFolderStore.IsPublic(mailbox.Id) ? 0 : await session.QuotaBytesAsync(cancellationToken);
        var writer = session.Writer.BeginUntagged().Atom("QUOTAROOT").Mailbox(mailbox.Name);
        if (quota > 0)
        {
            writer.String(string.Empty);
        }

        writer.EndLine();
        if (quota > 0)
        {
            await GetQuota.WriteQuotaAsync(session, quota, cancellationToken);
        }
        await session.OkAsync(command, "GETQUOTAROOT completed", cancellationToken);
    }
}
