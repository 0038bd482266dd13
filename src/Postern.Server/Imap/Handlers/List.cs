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

        // Names that exist, plus the superiors of existing names that do not (shown as \Noselect / \NonExistent). When only
        // subscriptions are selected, the subscribed names too, existing or not (RFC 3501 §6.3.6: a subscription outlives
        // its mailbox), with their superiors: the parents LSUB flags \Noselect and RECURSIVEMATCH reports CHILDINFO for.
        var existing = mailboxes.Select(m => m.Name).ToList();
        var candidates = new SortedSet<string>(StringComparer.Ordinal);
        AddWithSuperiors(candidates, existing);
        if (onlySubscribed)
        {
            AddWithSuperiors(candidates, subscriptions);
        }

        var patterns = request.Patterns.Select(p => ImapMailboxPattern.Combine(request.Reference, p, ImapSession.Delimiter)).ToList();
        bool Matches(string name) => patterns.Any(p => ImapMailboxPattern.IsMatch(p, name, ImapSession.Delimiter));

        foreach (var name in candidates)
        {
            if (!Matches(name))
            {
                continue;
            }

            var exists = byName.TryGetValue(name, out var mailbox);
            var subscribed = subscriptions.Contains(name);

            // An unsubscribed name with a subscribed descendant that no pattern matches (so is not returned itself) stands
            // in for it: LSUB returns it flagged \Noselect (RFC 3501 §6.3.9, the "%" case), LIST (SUBSCRIBED RECURSIVEMATCH)
            // with CHILDINFO ("SUBSCRIBED") (RFC 5258 §3.5). A descendant that is returned needs no stand-in.
            var childInfo = false;
            var lsubParent = false;
            if (onlySubscribed && !subscribed)
            {
                var hiddenDescendant = subscriptions.Any(s => IsDescendant(s, name) && !Matches(s));
                childInfo = hiddenDescendant && !lsub && recursiveMatch;
                lsubParent = hiddenDescendant && lsub;
                if (!childInfo && !lsubParent)
                {
                    continue;
                }
            }

            if (onlySpecialUse && mailbox?.SpecialUse is null)
            {
                continue;
            }

            var hasChildren = childInfo || existing.Any(c => IsDescendant(c, name));
            writer.BeginUntagged().Atom(verb).BeginList();
            if (lsubParent)
            {
                writer.Atom("\\Noselect");
            }
            else if (!exists)
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

    private static void AddWithSuperiors(SortedSet<string> names, IEnumerable<string> add)
    {
        foreach (var name in add)
        {
            names.Add(name);
            for (var i = name.IndexOf(ImapSession.Delimiter, StringComparison.Ordinal); i >= 0; i = name.IndexOf(ImapSession.Delimiter, i + 1))
            {
                if (i > 0)
                {
                    names.Add(name[..i]);
                }
            }
        }
    }

    private static bool IsDescendant(string candidate, string name) =>
        candidate.Length > name.Length + 1 && candidate[name.Length] == ImapSession.Delimiter && candidate.StartsWith(name, StringComparison.Ordinal);
}
