using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>
/// RFC 3501 §6.3.8 LIST and §6.3.9 LSUB, with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154)
/// and CHILDREN (RFC 3348).
/// </summary>
internal sealed class List(bool lsub) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        ImapListRequest request;
        string error;
        var parsed = lsub
            ? ImapListRequest.TryParseLsub(command.GetReader(), session.Utf8Enabled, out request, out error)
            : ImapListRequest.TryParse(command.GetReader(), session.Utf8Enabled, out request, out error);
        if (!parsed)
        {
            session.BadArguments(command, error);
            return;
        }

        var verb = lsub ? "LSUB" : "LIST";
        var writer = session.Writer;
        var delimiter = ImapSession.Delimiter.ToString();

        // RFC 3501 §6.3.8: an empty pattern asks only for the delimiter and the root.
        if (!lsub && request.Patterns.Count == 1 && request.Patterns[0].Length == 0)
        {
            writer.BeginUntagged().Atom(verb).BeginList().Atom("\\Noselect").EndList().String(delimiter).String(string.Empty).EndLine();
            await session.OkAsync(command, verb + " completed", cancellationToken);
            return;
        }

        var account = session.Account!.Id;
        var mailboxes = await session.Mail.ListMailboxesAsync(account, cancellationToken);
        var byName = mailboxes.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var subscriptions = (await session.Mail.ListSubscriptionsAsync(account, cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var onlySubscribed = lsub || (request.Select & ImapListSelectOptions.Subscribed) != 0;
        var returnSubscribed = (request.Return & ImapListReturnOptions.Subscribed) != 0 || (request.Select & ImapListSelectOptions.Subscribed) != 0;
        var recursiveMatch = (request.Select & ImapListSelectOptions.RecursiveMatch) != 0;
        var onlySpecialUse = (request.Select & ImapListSelectOptions.SpecialUse) != 0;

        // Names that exist, plus the superiors of existing names that do not (shown as \Noselect / \NonExistent).
        var candidates = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var existing in recursiveMatch ? mailboxes.Select(m => m.Name).Concat(subscriptions) : mailboxes.Select(m => m.Name))
        {
            candidates.Add(existing);
            var segments = existing.Split(ImapSession.Delimiter);
            for (var i = 1; i < segments.Length; i++)
            {
                candidates.Add(string.Join(ImapSession.Delimiter, segments[..i]));
            }
        }

        if (onlySubscribed)
        {
            candidates.UnionWith(subscriptions);
        }

        var patterns = request.Patterns.Select(p => ImapMailboxPattern.Combine(request.Reference, p, ImapSession.Delimiter)).ToList();
        foreach (var name in candidates)
        {
            if (!patterns.Any(p => ImapMailboxPattern.IsMatch(p, name, ImapSession.Delimiter)))
            {
                continue;
            }

            var exists = byName.TryGetValue(name, out var mailbox);
            var subscribed = subscriptions.Contains(name);
            // RFC 5258 §3.5 / RFC 9051 §6.3.9.1: with RECURSIVEMATCH, an unsubscribed parent of a subscribed name is
            // returned with CHILDINFO ("SUBSCRIBED").
            var childInfo = false;
            if (onlySubscribed && !subscribed)
            {
                childInfo = !lsub && recursiveMatch && subscriptions.Any(s => IsDescendant(s, name));
                if (!childInfo)
                {
                    continue;
                }
            }

            if (onlySpecialUse && mailbox?.SpecialUse is null)
            {
                continue;
            }

            var hasChildren = candidates.Any(c => IsDescendant(c, name));
            writer.BeginUntagged().Atom(verb).BeginList();
            if (!exists)
            {
                // RFC 9051 §6.3.9: rev2 LIST is LIST-EXTENDED, where \\NonExistent (implying \\Noselect) marks such names.
                writer.Atom(request.IsExtended || (session.Rev2Enabled && !lsub) ? "\\NonExistent" : "\\Noselect");
            }

            if (!lsub)
            {
                writer.Atom(hasChildren ? "\\HasChildren" : "\\HasNoChildren");
            }

            if (returnSubscribed && subscribed && !lsub)
            {
                writer.Atom("\\Subscribed");
            }

            if (mailbox?.SpecialUse is { } use)
            {
                writer.Atom(use);
            }

            writer.EndList().String(delimiter).Mailbox(name);
            if (childInfo)
            {
                writer.BeginList().String("CHILDINFO").BeginList().String("SUBSCRIBED").EndList().EndList();
            }

            writer.EndLine();

            if (exists && (request.Return & ImapListReturnOptions.Status) != 0)
            {
                await Status.WriteStatusAsync(session, mailbox!, request.StatusItems, cancellationToken);
            }
        }

        await session.OkAsync(command, verb + " completed", cancellationToken);
    }

    private static bool IsDescendant(string candidate, string name) =>
        candidate.Length > name.Length + 1 && candidate[name.Length] == ImapSession.Delimiter && candidate.StartsWith(name, StringComparison.Ordinal);
}
