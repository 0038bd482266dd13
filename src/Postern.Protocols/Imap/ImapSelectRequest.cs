namespace Postern.Protocols.Imap;

/// <summary>QRESYNC select parameter (RFC 7162 §3.2.5).</summary>
/// <param name="KnownUids">The UIDs the client knows, or null.</param>
/// <param name="KnownSequenceSet">seq-match-data: message numbers …</param>
/// <param name="KnownUidSet">… and the UIDs they correspond to.</param>
public sealed record ImapQResyncParameters(uint UidValidity, ulong ModSeq, ImapSequenceSet? KnownUids, ImapSequenceSet? KnownSequenceSet, ImapSequenceSet? KnownUidSet);

/// <summary>A parsed SELECT or EXAMINE.</summary>
public sealed record ImapSelectRequest(string Mailbox, bool CondStore, ImapQResyncParameters? QResync)
{
    /// <remarks>
    /// <code>
    /// select = "SELECT" SP mailbox [select-params]
    /// select-params = SP "(" select-param *(SP select-param) ")"
    /// select-param = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
    /// seq-match-data = "(" known-sequence-set SP known-uid-set ")"
    /// </code>
    /// </remarks>
    public static bool TryParse(ImapArgumentReader args, bool utf8Enabled, out ImapSelectRequest request, out string error)
    {
        request = null!;
        if (!args.TryReadMailbox(utf8Enabled, out var mailbox))
        {
            error = "Invalid mailbox name";
            return false;
        }

        var condStore = false;
        ImapQResyncParameters? qresync = null;
        if (args.TryReadList(out var parameters))
        {
            var reader = new ImapArgumentReader(parameters);
            while (!reader.AtEnd)
            {
                if (reader.TryReadKeyword("CONDSTORE"))
                {
                    condStore = true;
                }
                else if (reader.TryReadKeyword("QRESYNC") && qresync is null && reader.TryReadList(out var inner) && TryParseQResync(inner, out qresync))
                {
                    // RFC 7162 §3.2.5: QRESYNC implies CONDSTORE.
                    condStore = true;
                }
                else
                {
                    error = "Invalid select parameter";
                    return false;
                }
            }
        }

        if (!args.AtEnd)
        {
            error = "Unexpected arguments";
            return false;
        }

        request = new ImapSelectRequest(mailbox, condStore, qresync);
        error = string.Empty;
        return true;
    }

    private static bool TryParseQResync(IReadOnlyList<ImapToken> tokens, out ImapQResyncParameters? parameters)
    {
        parameters = null;
        var reader = new ImapArgumentReader(tokens);
        if (!reader.TryReadNumber(out var uidValidity) || uidValidity == 0 || !reader.TryReadNumber64(out var modseq) || modseq == 0)
        {
            return false;
        }

        ImapSequenceSet? knownUids = null;
        ImapSequenceSet? knownSequence = null;
        ImapSequenceSet? knownUidSet = null;
        if (reader.Peek() is { IsAtom: true })
        {
            if (!reader.TryReadSequenceSet(out var set) || !IsExplicit(set))
            {
                return false;
            }

            knownUids = set;
        }

        if (reader.TryReadList(out var match))
        {
            var inner = new ImapArgumentReader(match);
            if (!inner.TryReadSequenceSet(out var sequences) || !inner.TryReadSequenceSet(out var uids) || !inner.AtEnd || !IsExplicit(sequences) || !IsExplicit(uids))
            {
                return false;
            }

            knownSequence = sequences;
            knownUidSet = uids;
        }

        if (!reader.AtEnd)
        {
            return false;
        }

        parameters = new ImapQResyncParameters(uidValidity, modseq, knownUids, knownSequence, knownUidSet);
        return true;
    }

    /// <summary>RFC 7162 §7: known-uids, known-sequence-set and known-uid-set are sequence-sets where "*" is not allowed (nor "$").</summary>
    private static bool IsExplicit(ImapSequenceSet set) =>
        !set.IsSavedResult && set.Ranges.All(r => r.Start != ImapSequenceSet.Star && r.End != ImapSequenceSet.Star);
}
