using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 9208 §4.1: every account has one quota root, "".</summary>
internal sealed class GetQuota : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseQuotaRoot(command.GetReader(), out var root))
        {
            session.BadArguments(command, "GETQUOTA needs a quota root");
            return;
        }

        if (root.Length != 0)
        {
            session.No(command, "No such quota root", "NONEXISTENT");
            return;
        }

        await WriteQuotaAsync(session, cancellationToken);
        await session.OkAsync(command, "GETQUOTA completed", cancellationToken);
    }

    /// <summary><c>* QUOTA "" (STORAGE used limit)</c> in units of 1024 octets; no resource line when unlimited.</summary>
    public static async Task WriteQuotaAsync(ImapSession session, CancellationToken cancellationToken)
    {
        var account = session.Account!;
        var writer = session.Writer.BeginUntagged().Atom("QUOTA").String(string.Empty).BeginList();
        if (account.QuotaBytes > 0)
        {
            var used = await session.Mail.GetAccountUsageAsync(account.Id, cancellationToken);
            writer.Atom("STORAGE").Number((ulong)((used + 1023) / 1024)).Number((ulong)(account.QuotaBytes / 1024));
        }

        writer.EndList().EndLine();
    }
}
