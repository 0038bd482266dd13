using Postern.Protocols.Imap;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 5256 §3 THREAD / UID THREAD with ORDEREDSUBJECT and REFERENCES.</summary>
internal sealed class Thread(bool uid) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapThreadRequest.TryParse(command.GetReader(), out var request, out var error))
        {
            session.BadArguments(command, error);
            return;
        }

        if (await Search.MatchAsync(session, command, request.Charset, request.Key, cancellationToken) is not { } matches)
        {
            return;
        }

        var selected = session.Selected!;
        var keys = await ImapSortKeys.LoadAsync(session, selected, matches, needsHeader: true, cancellationToken);
        var threads = ImapThreading.Thread(request.Algorithm, keys.Select(k => k.ToThreadMessage(uid)).ToList());
        ImapThreading.Write(session.Writer, threads);

        await session.CompleteAsync(command, ImapStatus.Ok, "THREAD completed", allowExpunge: uid, cancellationToken: cancellationToken);
    }
}
