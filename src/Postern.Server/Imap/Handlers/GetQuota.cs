using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 9208 §4.1: an account with a storage limit has one quota root, ""; one without has none, as in Dovecot.</summary>
internal sealed class GetQuota : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseQuotaRoot(command.GetReader(), out var root))
        {
            session.BadArguments(command, "GETQUOTA needs a quota root");
            return;
        }

        var quota = await session.QuotaBytesAsync(cancellationToken);
        if (root.Length != 0 || quota <= 0)
        {
            session.No(command, "No such quota root", "NONEXISTENT");
            return;
        }

        await WriteQuotaAsync(session, quota, cancellationToken);
        await session.OkAsync(command, "GETQUOTA completed", cancellationToken);
    }

    /// <summary>
    /// <c>* QUOTA "" (STORAGE used limit)</c> in units of 1024 octets. RFC 9208 §5.1: a quota list holds at least one
    /// resource, so an account without a limit gets no QUOTA response at all (an empty list broke MailKit's parser).
    /// </summary>
    public static async Task WriteQuotaAsync(ImapSession session, long quota, CancellationToken cancellationToken)
    {
        var used = await session.Mail.GetAccountUsageAsync(session.Account!.Id, cancellationToken);
        session.Writer.BeginUntagged().Atom("QUOTA").String(string.Empty).BeginList()
            .Atom("STORAGE").Number((ulong)((used + 1023) / 1024)).Number((ulong)(quota / 1024)).EndList().EndLine();
    }
}
