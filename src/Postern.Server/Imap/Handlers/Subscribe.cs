using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>
/// RFC 3501 §6.3.6 SUBSCRIBE and §6.3.7 UNSUBSCRIBE. The subscription list holds names: a name that does not exist
/// (yet, or any more) may be subscribed, as Dovecot allows (§6.3.6 only says the server MAY check), and DELETE leaves
/// it on the list. Unsubscribing a name that is not subscribed succeeds.
/// </summary>
internal sealed class Subscribe(bool subscribe) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSimpleRequests.TryParseMailbox(command.GetReader(), session.Utf8Enabled, out var name))
        {
            session.BadArguments(command, "Mailbox name expected");
            return;
        }

        // As with CREATE, a trailing delimiter adds nothing to the name.
        name = ImapSession.NormalizeMailbox(name.TrimEnd(ImapSession.Delimiter));
        if (subscribe && !IsValidName(name))
        {
            session.No(command, "Invalid mailbox name", "CANNOT");
            return;
        }

        if (subscribe && ImapDefaults.MailboxNameRefusal(session.Config, name, ImapSession.Delimiter) is { } refusal)
        {
            session.No(command, refusal, "CANNOT");
            return;
        }

        // Names need not exist, so the list is bounded on its own, by the mailbox limit.
        if (subscribe && await session.Mail.ListSubscriptionsAsync(session.Account!.Id, cancellationToken) is { } subscribed
            && subscribed.Count >= ImapDefaults.MaxMailboxes(session.Config) && !subscribed.Contains(name, StringComparer.Ordinal))
        {
            session.No(command, "Too many subscriptions", "LIMIT");
            return;
        }

        var status = await session.Mail.SetSubscribedAsync(session.Account!.Id, name, subscribe, cancellationToken);
        if (status == StoreStatus.Ok)
        {
            await session.OkAsync(command, (subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE") + " completed", cancellationToken);
        }
        else
        {
            session.No(command, "No such mailbox", "NONEXISTENT");
        }
    }

    private static bool IsValidName(string name) =>
        name.Length > 0 && !name.StartsWith(ImapSession.Delimiter) && !ImapMailboxName.IsUndecodable(name) &&
        !name.Contains(ImapSession.Delimiter + ImapSession.Delimiter.ToString(), StringComparison.Ordinal);
}
