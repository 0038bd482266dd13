using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 9208 §4.3: quotas are set by the administrator, not by users.</summary>
internal sealed class SetQuota : IImapHandler
{
    public Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseSetQuota(command.GetReader(), out _, out _))
        {
            session.BadArguments(command, "Invalid SETQUOTA arguments");
        }
        else
        {
            session.No(command, "Quotas are managed by the administrator", "NOPERM");
        }

        return Task.CompletedTask;
    }
}
