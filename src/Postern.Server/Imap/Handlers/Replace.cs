using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>
/// RFC 8508 REPLACE / UID REPLACE: a new version of a message (a draft saved again) appended, then the old one expunged
/// from the selected mailbox, in one command. If the append fails, the old message stays.
/// </summary>
internal sealed class Replace(bool uid) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        // replace = "REPLACE" SP seq-number SP mailbox append-message (one message; CATENATE allowed).
        var args = command.GetReader();
        if (!args.TryReadNumber(out var number) || number == 0 ||
            !ImapAppendRequest.TryParse(args, session.Utf8Enabled, out var request, out _) || request.Messages.Count != 1)
        {
            session.BadArguments(command, command.Name + " needs a message " + (uid ? "UID" : "number") + ", a mailbox and one message");
            return;
        }

        var selected = session.Selected!;
        var messages = selected.Messages;
        Postern.Store.MessageRecord? old;
        if (uid)
        {
            old = messages.FirstOrDefault(m => m.Uid == number);
            if (old is null)
            {
                session.No(command, "No message with that UID", "NONEXISTENT");
                return;
            }
        }
        else if (number > messages.Count)
        {
            session.BadArguments(command, "Invalid message sequence number");
            return;
        }
        else
        {
            old = messages[(int)number - 1];
        }

        if (!await Expunge.MayExpungeAsync(session, command, cancellationToken))
        {
            return;
        }

        if (await Append.AppendAsync(session, command, request, replacing: old, cancellationToken) is not { } appended)
        {
            return;
        }

        // RFC 8508 §3.3: the new message's APPENDUID in an untagged OK, then the old message's EXPUNGE, then the tagged OK.
        session.Writer.Untagged(ImapStatus.Ok, $"APPENDUID {appended.UidValidity} {ImapSequenceSet.Format(appended.Uids)}", "Replacement Message ID");
        await session.Mail.ExpungeAsync(selected.Mailbox.Id, [old.Uid], onlyDeleted: false, cancellationToken);
        selected.MarkDirty();
        await session.OkAsync(command, command.Name + " completed", cancellationToken);
    }
}
