using Microsoft.Extensions.Logging;
using Postern.Protocols.Imap;
using Postern.Server.Connections;
using Postern.Server.Nntp;
using Postern.Store;

namespace Postern.Server.Imap;

/// <summary>
/// The IMAP commands' public folder rules: APPEND posts an article (post right), COPY/MOVE into a folder needs the
/// post right, MOVE out of one and EXPUNGE need the moderate right (RFC 5530 NOPERM otherwise).
/// </summary>
internal static class ImapPublicFolders
{
    public static ImapPublicFolderStore CreateStore(ServerContext context, Account account)
    {
        // Articles filed over IMAP carry the host name as their Path identity (the NNTP virtual servers' own setting,
        // nntp.path-identity, is not visible from an IMAP session).
        var intake = new NewsArticleIntake(context.Store, context.HostName, context.Time, context.LoggerFactory.CreateLogger(typeof(ImapPublicFolders)));
        return new ImapPublicFolderStore(context.Store, account, intake);
    }

    public static async Task<PublicFolderRights> RightsAsync(ImapSession session, Mailbox mailbox, CancellationToken cancellationToken)
    {
        if (session.Mail is not ImapPublicFolderStore store || !ImapPublicFolderStore.IsPublic(mailbox.Id))
        {
            return PublicFolderRights.All;
        }

        var folder = await store.GetReadableFolderAsync(mailbox.Id, cancellationToken);
        return folder is null ? PublicFolderRights.None : store.RightsOf(folder);
    }

    public static async Task<bool> MayExpungeAsync(ImapSession session, Mailbox mailbox, CancellationToken cancellationToken) =>
        (await RightsAsync(session, mailbox, cancellationToken)).HasFlag(PublicFolderRights.Moderate);

    /// <summary>Why a COPY/MOVE is not allowed, or null.</summary>
    public static async Task<string?> CopyRefusalAsync(ImapSession session, Mailbox source, Mailbox target, bool move, CancellationToken cancellationToken)
    {
        if (!(await RightsAsync(session, target, cancellationToken)).HasFlag(PublicFolderRights.Post))
        {
            return "Posting to this public folder is not permitted";
        }

        return move && !(await RightsAsync(session, source, cancellationToken)).HasFlag(PublicFolderRights.Moderate)
            ? "Moving articles out of this public folder needs the moderate right"
            : null;
    }

    /// <summary>APPEND into a public folder: each message becomes an article (or waits for the moderator).</summary>
    public static async Task AppendAsync(ImapSession session, ImapCommand command, Mailbox mailbox, ImapAppendRequest request, CancellationToken cancellationToken)
    {
        if (!(await RightsAsync(session, mailbox, cancellationToken)).HasFlag(PublicFolderRights.Post))
        {
            session.No(command, "Posting to this public folder is not permitted", "NOPERM");
            return;
        }

        if (request.Messages.Any(m => m.Content.Length > session.Config.Limits.MaxMessageSize))
        {
            session.No(command, "Message too large", "TOOBIG");
            return;
        }

        if (request.Messages.Any(m => m.Content.IsEmpty))
        {
            session.No(command, "Empty message", "CANNOT");
            return;
        }

        // RFC 3502 §6: if any message of a MULTIAPPEND cannot be appended, none is. Every article is checked before the
        // first is filed, so a bad one refuses the command with nothing stored (a single APPEND is checked as it is filed).
        if (request.Messages.Count > 1 && session.Mail is ImapPublicFolderStore store)
        {
            foreach (var message in request.Messages)
            {
                if (await store.AppendRefusalAsync(mailbox.Id, message.Content, cancellationToken) is { } refusal)
                {
                    session.No(command, refusal, "CANNOT");
                    return;
                }
            }
        }

        var uids = new List<uint>();
        var held = 0;
        foreach (var message in request.Messages)
        {
            var result = await session.Mail.AppendAsync(mailbox.Id, message.Content, (MessageFlags)message.Flags.System, message.Flags.Keywords,
                message.InternalDate ?? session.Context.Time.GetUtcNow(), cancellationToken);
            if (!result.IsOk)
            {
                session.No(command, result.Message ?? "Append failed", "CANNOT");
                return;
            }

            if (result.Value!.Uid == 0)
            {
                held++;
            }
            else
            {
                uids.Add((uint)result.Value.Uid);
            }
        }

        if (session.Selected?.Mailbox.Id == mailbox.Id)
        {
            session.Selected.MarkDirty();
        }

        // RFC 4315 §3: APPENDUID only when every message got a UID; held articles have none until approved.
        if (held > 0)
        {
            await session.OkAsync(command, $"APPEND completed; {held} article(s) held for the moderator", cancellationToken);
            return;
        }

        await session.OkAsync(command, "APPEND completed", cancellationToken, $"APPENDUID {mailbox.UidValidity} {ImapSequenceSet.Format(uids)}");
    }
}
