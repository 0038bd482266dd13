using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 5256 §3 SORT / UID SORT, with DISPLAYFROM/DISPLAYTO (RFC 5957) and the ESORT return options (RFC 5267 §3.2).</summary>
internal sealed class Sort(bool uid) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSortRequest.TryParse(command.GetReader(), out var request, out var error))
        {
            session.BadArguments(command, error);
            return;
        }

        if (await Search.MatchAsync(session, command, request.Charset, request.Key, cancellationToken) is not { } matches)
        {
            return;
        }

        var selected = session.Selected!;
        var keys = await ImapSortKeys.LoadAsync(session, selected, matches, ImapSortKeys.NeedsHeader(request.Criteria), cancellationToken);
        keys.Sort((a, b) => ImapSortKeys.Compare(a, b, request.Criteria));
        var numbers = keys.Select(k => uid ? (uint)k.Message.Uid : (uint)k.Sequence).ToList();

        var writer = session.Writer;
        if (request.Return is not { } options)
        {
            writer.BeginUntagged().Atom("SORT");
            foreach (var number in numbers)
            {
                writer.Number(number);
            }

            writer.EndLine();
        }
        else
        {
            Search.WriteEsearch(session, command, uid, options, numbers, [.. keys.Select(k => k.Message.Uid)], sortOrder: true, modSeq: null);
        }

        // RFC 3501 §7.4.1, as for SEARCH: no EXPUNGE while a SORT by sequence number runs.
        await session.CompleteAsync(command, ImapStatus.Ok, "SORT completed", allowExpunge: uid, cancellationToken: cancellationToken);
    }
}
