using Postern.Protocols.Imap;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>
/// RFC 4314: the rights a user has on a mailbox, so that a client greys out what it may not do. A user's own mailboxes
/// give them every right and are not shared; a public folder's rights come from its permissions, which the administrator
/// sets (SETACL and DELETEACL are refused).
/// </summary>
internal sealed class Acl(Acl.Verb verb) : IImapHandler
{
    public enum Verb
    {
        GetAcl,
        ListRights,
        MyRights,
        SetAcl,
        DeleteAcl,
    }

    /// <summary>
    /// Every right of RFC 4314 §2.1, which the owner of a mailbox has, with the obsolete "c" and "d" that §2.1.1 reports
    /// beside k/x and t/e/x for RFC 2086 clients (Dovecot does the same).
    /// </summary>
    public const string AllRights = "lrswipkxtecda";

    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        var strings = verb switch
        {
            Verb.ListRights or Verb.DeleteAcl => 1,
            Verb.SetAcl => 2,
            _ => 0,
        };
        if (!ImapSimpleRequests.TryParseAcl(command.GetReader(), session.Utf8Enabled, strings, out var name, out var identifier, out _))
        {
            session.BadArguments(command, command.Name + " needs a mailbox" + (strings > 0 ? " and an identifier" : string.Empty) + (strings > 1 ? " and rights" : string.Empty));
            return;
        }

        var mailbox = await session.Mail.GetMailboxAsync(session.Account!.Id, ImapSession.NormalizeMailbox(name), cancellationToken);
        if (mailbox is null)
        {
            session.No(command, "No such mailbox", "NONEXISTENT");
            return;
        }

        var rights = await RightsAsync(session, mailbox, cancellationToken);
        var owner = session.Account!.Address;
        var writer = session.Writer;
        switch (verb)
        {
            case Verb.MyRights:
                writer.BeginUntagged().Atom("MYRIGHTS").Mailbox(mailbox.Name).AString(rights).EndLine();
                break;

            // RFC 4314 §4: GETACL and LISTRIGHTS need the administer right, which only the owner of a mailbox has.
            case Verb.GetAcl or Verb.ListRights when !rights.Contains('a', StringComparison.Ordinal):
                session.No(command, "Only the owner may see who has access", "NOPERM");
                return;
            case Verb.GetAcl:
                writer.BeginUntagged().Atom("ACL").Mailbox(mailbox.Name).AString(owner).AString(AllRights).EndLine();
                break;
            case Verb.ListRights:
                // The owner always has every right; nobody else can be given any (mailboxes are not shared).
                var isOwner = identifier.Equals(owner, StringComparison.OrdinalIgnoreCase);
                writer.BeginUntagged().Atom("LISTRIGHTS").Mailbox(mailbox.Name).AString(identifier).String(isOwner ? AllRights : string.Empty).EndLine();
                break;
            default:
                session.No(command,
                    ImapPublicFolderStore.IsPublic(mailbox.Id) ? "Public folder permissions are set by the administrator" : "Mailboxes are not shared",
                    rights.Contains('a', StringComparison.Ordinal) ? "CANNOT" : "NOPERM");
                return;
        }

        await session.OkAsync(command, command.Name + " completed", cancellationToken);
    }

    /// <summary>The user's rights on a mailbox they can see, as RFC 4314 letters.</summary>
    public static async Task<string> RightsAsync(ImapSession session, Mailbox mailbox, CancellationToken cancellationToken)
    {
        if (!ImapPublicFolderStore.IsPublic(mailbox.Id))
        {
            return AllRights;
        }

        var granted = await ImapPublicFolders.RightsAsync(session, mailbox, cancellationToken);

        // Flags in a public folder are each reader's own (s, w, t); posting is insert and post (i, p); the moderate right
        // expunges and moves articles out (e, with t). Folders are created by the administrator, never over IMAP (no k, x, a).
        var letters = string.Empty;
        if (granted.HasFlag(PublicFolderRights.Read))
        {
            letters += "lrswtd";
        }

        if (granted.HasFlag(PublicFolderRights.Post))
        {
            letters += "ip";
        }

        if (granted.HasFlag(PublicFolderRights.Moderate))
        {
            letters += "e";
        }

        return letters;
    }
}
