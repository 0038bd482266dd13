namespace Postern.Protocols.Imap;

public enum ImapStoreOperation
{
    Replace = 0,
    Add = 1,
    Remove = 2,
}

/// <summary>A parsed STORE / UID STORE.</summary>
public sealed record ImapStoreRequest(ImapSequenceSet Set, ImapStoreOperation Operation, bool Silent, ImapFlagSet Flags, ulong? UnchangedSince)
{
    /// <remarks>
    /// <code>
    /// store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
    /// store-modifiers = SP "(" store-modifier *(SP store-modifier) ")" ; "UNCHANGEDSINCE" SP mod-sequence-valzer (RFC 7162)
    /// store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
    /// </code>
    /// </remarks>
    public static bool TryParse(ImapArgumentReader args, out ImapStoreRequest request, out string error)
    {
        request = null!;
        if (!args.TryReadSequenceSet(out var set))
        {
            error = "Invalid sequence set";
            return false;
        }

        ulong? unchangedSince = null;
        if (args.TryReadList(out var modifiers))
        {
            var reader = new ImapArgumentReader(modifiers);
            while (!reader.AtEnd)
            {
                if (reader.TryReadKeyword("UNCHANGEDSINCE") && unchangedSince is null && reader.TryReadNumber64(out var modseq))
                {
                    unchangedSince = modseq;
                    continue;
                }

                error = "Invalid store modifier";
                return false;
            }
        }

        if (!args.TryReadAtom(out var item))
        {
            error = "Missing store item";
            return false;
        }

        var upper = item.ToUpperInvariant();
        var operation = ImapStoreOperation.Replace;
        if (upper.StartsWith('+'))
        {
            operation = ImapStoreOperation.Add;
            upper = upper[1..];
        }
        else if (upper.StartsWith('-'))
        {
            operation = ImapStoreOperation.Remove;
            upper = upper[1..];
        }

        bool silent;
        if (upper == "FLAGS")
        {
            silent = false;
        }
        else if (upper == "FLAGS.SILENT")
        {
            silent = true;
        }
        else
        {
            error = "Unknown store item";
            return false;
        }

        ImapFlagSet flags;
        if (args.Peek() is { IsList: true })
        {
            if (!args.TryReadFlagList(out flags) || !args.AtEnd)
            {
                error = "Invalid flag list";
                return false;
            }
        }
        else
        {
            var tokens = new List<ImapToken>();
            while (args.Read() is { } token)
            {
                tokens.Add(token);
            }

            if (tokens.Count == 0 || !ImapFlagSet.TryParse(tokens, out flags))
            {
                error = "Invalid flags";
                return false;
            }
        }

        request = new ImapStoreRequest(set, operation, silent, flags, unchangedSince);
        error = string.Empty;
        return true;
    }
}
