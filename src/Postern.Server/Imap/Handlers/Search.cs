using Postern.Protocols.Imap;
using Postern.Server.Connections;

namespace Postern.Server.Imap.Handlers;

/// <summary>RFC 3501 §6.4.4 SEARCH / UID SEARCH, ESEARCH (RFC 4731), SEARCHRES (RFC 5182), CONDSTORE MODSEQ (RFC 7162 §3.1.5); ESEARCH only under IMAP4rev2 (RFC 9051 §6.4.4).</summary>
internal sealed class Search(bool uid) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapSearchRequest.TryParse(command.GetReader(), out var request, out var error))
        {
            session.BadArguments(command, error);
            return;
        }

        // RFC 6855 §3: a client that enabled UTF8=ACCEPT must not name a charset, and the server SHOULD answer BAD.
        if (request.Charset is not null && session.Enabled.Utf8)
        {
            session.BadArguments(command, "CHARSET is not allowed after ENABLE UTF8=ACCEPT (RFC 6855 section 3)");
            return;
        }

        if (await MatchAsync(session, command, request.Charset, request.Key, cancellationToken) is not { } matches)
        {
            return;
        }

        var usesModSeq = UsesModSeq(request.Key);
        var numbers = matches.Select(m => uid ? (uint)m.Message.Uid : (uint)m.Sequence).ToList();
        var writer = session.Writer;
        // RFC 9051 §6.4.4, §7.3.4: IMAP4rev2 has no SEARCH response; a plain SEARCH answers ESEARCH as if RETURN (ALL).
        var returnOptions = request.Return ?? (session.Enabled.SearchAnswersEsearch ? ImapSearchReturnOptions.All : null);
        if (returnOptions is not { } options)
        {
            writer.BeginUntagged().Atom("SEARCH");
            foreach (var number in numbers)
            {
                writer.Number(number);
            }

            if (usesModSeq && matches.Count > 0)
            {
                writer.BeginList().Atom("MODSEQ").Number((ulong)matches.Max(m => m.Message.ModSeq)).EndList();
            }

            writer.EndLine();
        }
        else
        {
            long? modSeq = usesModSeq && matches.Count > 0 ? ReturnedModSeq(matches, numbers, options) : null;
            WriteEsearch(session, command, uid, options, numbers, [.. matches.Select(m => m.Message.Uid)], sortOrder: false, modSeq);
        }

        // RFC 3501 §7.4.1: no EXPUNGE while SEARCH (by sequence number) is running.
        await session.CompleteAsync(command, ImapStatus.Ok, "SEARCH completed", allowExpunge: uid, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// The ESEARCH reply of SEARCH (RFC 4731 §3.1) and of SORT (ESORT, RFC 5267 §3.2), and SAVE (RFC 5182). In sort order
    /// MIN and MAX are the first and last message and ALL keeps the order; otherwise they are the lowest and highest.
    /// </summary>
    internal static void WriteEsearch(ImapSession session, ImapCommand command, bool uid, ImapSearchReturnOptions options, IReadOnlyList<uint> numbers,
        IReadOnlyList<long> uids, bool sortOrder, long? modSeq)
    {
        if ((options & ImapSearchReturnOptions.Save) != 0)
        {
            session.SavedSearch = SavedUids(options, numbers, uids, sortOrder);
        }

        // RFC 5182 §2.4: SAVE alone returns no ESEARCH response.
        if (options == ImapSearchReturnOptions.Save)
        {
            return;
        }

        var writer = session.Writer;
        writer.BeginUntagged().Atom("ESEARCH").BeginList().Atom("TAG").String(command.Tag).EndList();
        if (uid)
        {
            writer.Atom("UID");
        }

        if ((options & ImapSearchReturnOptions.Min) != 0 && numbers.Count > 0)
        {
            writer.Atom("MIN").Number(sortOrder ? numbers[0] : numbers.Min());
        }

        if ((options & ImapSearchReturnOptions.Max) != 0 && numbers.Count > 0)
        {
            writer.Atom("MAX").Number(sortOrder ? numbers[^1] : numbers.Max());
        }

        if ((options & ImapSearchReturnOptions.All) != 0 && numbers.Count > 0)
        {
            writer.Atom("ALL").Atom(sortOrder ? ImapSequenceSet.FormatInOrder(numbers) : ImapSequenceSet.Format(numbers));
        }

        if ((options & ImapSearchReturnOptions.Count) != 0)
        {
            writer.Atom("COUNT").Number((ulong)numbers.Count);
        }

        if (modSeq is { } highest)
        {
            writer.Atom("MODSEQ").Number((ulong)highest);
        }

        writer.EndLine();
    }

    /// <summary>
    /// What SAVE keeps for "$": with MIN and/or MAX and neither ALL nor COUNT, only the messages those return; otherwise
    /// every message found (RFC 5182 §2.4, RFC 9051 §6.4.4.1).
    /// </summary>
    private static IReadOnlyList<long> SavedUids(ImapSearchReturnOptions options, IReadOnlyList<uint> numbers, IReadOnlyList<long> uids, bool sortOrder)
    {
        if ((options & (ImapSearchReturnOptions.All | ImapSearchReturnOptions.Count)) != 0 ||
            (options & (ImapSearchReturnOptions.Min | ImapSearchReturnOptions.Max)) == 0 || uids.Count == 0)
        {
            return uids;
        }

        int lowest = 0, highest = 0;
        for (var i = 1; i < numbers.Count; i++)
        {
            lowest = numbers[i] < numbers[lowest] ? i : lowest;
            highest = numbers[i] > numbers[highest] ? i : highest;
        }

        var saved = new List<long>(2);
        if ((options & ImapSearchReturnOptions.Min) != 0)
        {
            saved.Add(uids[sortOrder ? 0 : lowest]);
        }

        if ((options & ImapSearchReturnOptions.Max) != 0 && !saved.Contains(uids[sortOrder ? uids.Count - 1 : highest]))
        {
            saved.Add(uids[sortOrder ? uids.Count - 1 : highest]);
        }

        return saved;
    }

    /// <summary>
    /// The messages of the selected mailbox that match, for SEARCH, SORT and THREAD; null, with the NO written, when the
    /// charset is not one the server knows (RFC 3501 §6.4.4: BADCHARSET).
    /// </summary>
    internal static async Task<List<(int Sequence, Postern.Store.MessageRecord Message)>?> MatchAsync(ImapSession session, ImapCommand command, string? charset,
        ImapSearchKey key, CancellationToken cancellationToken)
    {
        if (!ImapSearchRequest.IsSupportedCharset(charset))
        {
            session.No(command, "Unsupported charset", "BADCHARSET (UTF-8 US-ASCII)");
            return null;
        }

        // RFC 7162 §3.1: a search by MODSEQ turns CONDSTORE on.
        if (UsesModSeq(key))
        {
            session.EnableCondStoreByCommand();
        }

        // Flags, sizes, dates and sets of a mailbox of ordinary size are answered on the socket's thread; a search that
        // reads messages, or runs over a very large mailbox, moves to the thread pool first (EventThread).
        await EventThread.ToThreadPoolIf(ImapSearchEvaluator.NeedsContent(key) || session.Selected!.Messages.Count > EventThread.InlineListLength);
        return await new ImapSearchEvaluator(session, session.Selected!).EvaluateAsync(key, cancellationToken);
    }

    /// <summary>
    /// RFC 7162 §3.1.5 with RFC 4731: MODSEQ is the highest mod-sequence of the messages the ESEARCH returns; with only
    /// MIN and/or MAX those are the one or two messages named, not every match.
    /// </summary>
    private static long ReturnedModSeq(IReadOnlyList<(int Sequence, Postern.Store.MessageRecord Message)> matches, List<uint> numbers, ImapSearchReturnOptions options)
    {
        if ((options & (ImapSearchReturnOptions.All | ImapSearchReturnOptions.Count)) != 0 ||
            (options & (ImapSearchReturnOptions.Min | ImapSearchReturnOptions.Max)) == 0)
        {
            return matches.Max(m => m.Message.ModSeq);
        }

        var highest = 0L;
        if ((options & ImapSearchReturnOptions.Min) != 0)
        {
            highest = matches[numbers.IndexOf(numbers.Min())].Message.ModSeq;
        }

        if ((options & ImapSearchReturnOptions.Max) != 0)
        {
            highest = Math.Max(highest, matches[numbers.IndexOf(numbers.Max())].Message.ModSeq);
        }

        return highest;
    }

    private static bool UsesModSeq(ImapSearchKey key) => key switch
    {
        ImapSearchModSeq => true,
        ImapSearchAnd and => and.Keys.Any(UsesModSeq),
        ImapSearchOr or => UsesModSeq(or.Left) || UsesModSeq(or.Right),
        ImapSearchNot not => UsesModSeq(not.Key),
        _ => false,
    };
}
