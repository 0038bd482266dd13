namespace Postern.Protocols.Imap;

/// <summary>Parsers for the commands whose arguments are a few strings.</summary>
public static class ImapSimpleRequests
{
    /// <summary><c>login = "LOGIN" SP userid SP password</c>, both astrings.</summary>
    public static bool TryParseLogin(ImapArgumentReader args, out string user, out string password)
    {
        password = string.Empty;
        return args.TryReadAString(out user) && args.TryReadAString(out password) && args.AtEnd;
    }

    /// <summary>
    /// <c>authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")]</c> (RFC 4959 SASL-IR). The initial response is
    /// returned as sent: "=" means an empty response.
    /// </summary>
    public static bool TryParseAuthenticate(ImapArgumentReader args, out string mechanism, out string? initialResponse)
    {
        initialResponse = null;
        if (!args.TryReadAtom(out mechanism))
        {
            return false;
        }

        mechanism = mechanism.ToUpperInvariant();
        if (args.TryReadAtom(out var response))
        {
            initialResponse = response;
        }

        return args.AtEnd;
    }

    /// <summary><c>enable = "ENABLE" 1*(SP capability)</c> (RFC 5161); names upper-cased.</summary>
    public static bool TryParseEnable(ImapArgumentReader args, out IReadOnlyList<string> capabilities)
    {
        var list = new List<string>();
        while (args.TryReadAtom(out var capability))
        {
            list.Add(capability.ToUpperInvariant());
        }

        capabilities = list;
        return list.Count > 0 && args.AtEnd;
    }

    /// <summary><c>id = "ID" SP id-params-list ; id-params-list = "(" *(string SP nstring) ")" / nil</c> (RFC 2971).</summary>
    public static bool TryParseId(ImapArgumentReader args, out IReadOnlyList<KeyValuePair<string, string?>> parameters)
    {
        var list = new List<KeyValuePair<string, string?>>();
        parameters = list;
        if (args.Peek() is { Kind: ImapTokenKind.Nil })
        {
            args.Read();
            return args.AtEnd;
        }

        if (!args.TryReadList(out var tokens) || !args.AtEnd || tokens.Count % 2 != 0 || tokens.Count > 60)
        {
            return false;
        }

        var reader = new ImapArgumentReader(tokens);
        while (!reader.AtEnd)
        {
            if (!reader.TryReadString(out var key) || !reader.TryReadNString(out var value))
            {
                return false;
            }

            list.Add(new(key, value));
        }

        return true;
    }

    /// <summary><c>copy = "COPY" SP sequence-set SP mailbox</c>; MOVE (RFC 6851) has the same shape.</summary>
    public static bool TryParseCopy(ImapArgumentReader args, bool utf8Enabled, out ImapSequenceSet set, out string mailbox)
    {
        mailbox = string.Empty;
        return args.TryReadSequenceSet(out set) && args.TryReadMailbox(utf8Enabled, out mailbox) && args.AtEnd;
    }

    /// <summary>SELECT-less commands with one mailbox: DELETE, SUBSCRIBE, UNSUBSCRIBE, GETQUOTAROOT.</summary>
    public static bool TryParseMailbox(ImapArgumentReader args, bool utf8Enabled, out string mailbox) =>
        args.TryReadMailbox(utf8Enabled, out mailbox) && args.AtEnd;

    /// <summary>
    /// The ACL commands of RFC 4314 §3: <c>mailbox [SP identifier [SP mod-rights]]</c>, identifier and rights as astrings.
    /// GETACL and MYRIGHTS name a mailbox, LISTRIGHTS and DELETEACL add an identifier, SETACL also the rights.
    /// </summary>
    public static bool TryParseAcl(ImapArgumentReader args, bool utf8Enabled, int strings, out string mailbox, out string identifier, out string rights)
    {
        identifier = string.Empty;
        rights = string.Empty;
        return args.TryReadMailbox(utf8Enabled, out mailbox)
            && (strings < 1 || args.TryReadAString(out identifier))
            && (strings < 2 || args.TryReadAString(out rights))
            && args.AtEnd;
    }

    /// <summary>
    /// <c>create = "CREATE" SP mailbox [create-params]</c>; RFC 6154 §3: <c>create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"</c>.
    /// </summary>
    public static bool TryParseCreate(ImapArgumentReader args, bool utf8Enabled, out string mailbox, out IReadOnlyList<string> specialUse)
    {
        specialUse = [];
        if (!args.TryReadMailbox(utf8Enabled, out mailbox))
        {
            return false;
        }

        if (args.TryReadList(out var parameters))
        {
            var reader = new ImapArgumentReader(parameters);
            var uses = new List<string>();
            while (!reader.AtEnd)
            {
                if (!reader.TryReadKeyword("USE") || !reader.TryReadList(out var attributes))
                {
                    return false;
                }

                foreach (var attribute in attributes)
                {
                    var text = attribute.AsString();
                    if (attribute.Kind != ImapTokenKind.Atom || text is null || !text.StartsWith('\\'))
                    {
                        return false;
                    }

                    uses.Add(text);
                }
            }

            specialUse = uses;
        }

        return args.AtEnd;
    }

    public static bool TryParseRename(ImapArgumentReader args, bool utf8Enabled, out string from, out string to)
    {
        to = string.Empty;
        return args.TryReadMailbox(utf8Enabled, out from) && args.TryReadMailbox(utf8Enabled, out to) && args.AtEnd;
    }

    /// <summary><c>getquota = "GETQUOTA" SP quota-root-name</c> (RFC 9208); the root is an astring.</summary>
    public static bool TryParseQuotaRoot(ImapArgumentReader args, out string root) => args.TryReadAString(out root) && args.AtEnd;

    /// <summary>
    /// <c>setquota = "SETQUOTA" SP quota-root-name SP setquota-list ; setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"
    /// ; setquota-resource = resource-name SP resource-limit</c> (RFC 9208 §4.2).
    /// </summary>
    public static bool TryParseSetQuota(ImapArgumentReader args, out string root, out IReadOnlyList<KeyValuePair<string, ulong>> limits)
    {
        var list = new List<KeyValuePair<string, ulong>>();
        limits = list;
        if (!args.TryReadAString(out root) || !args.TryReadList(out var tokens) || !args.AtEnd)
        {
            return false;
        }

        var reader = new ImapArgumentReader(tokens);
        while (!reader.AtEnd)
        {
            if (!reader.TryReadAtom(out var resource) || !reader.TryReadNumber64(out var limit))
            {
                return false;
            }

            list.Add(new(resource.ToUpperInvariant(), limit));
        }

        return true;
    }

    /// <summary><c>compress = "COMPRESS" SP algorithm</c> (RFC 4978); only DEFLATE exists.</summary>
    public static bool TryParseCompress(ImapArgumentReader args, out string algorithm) =>
        args.TryReadAtom(out algorithm) && args.AtEnd && (algorithm = algorithm.ToUpperInvariant()).Length > 0;

    /// <summary>UID EXPUNGE sequence-set (UIDPLUS, RFC 4315).</summary>
    public static bool TryParseSequenceSetOnly(ImapArgumentReader args, out ImapSequenceSet set) => args.TryReadSequenceSet(out set) && args.AtEnd;

    /// <summary>Decodes a SASL response line; "*" means the client cancelled (RFC 3501 §6.2.2), "=" an empty initial response.</summary>
    public static bool TryDecodeSaslResponse(string line, out byte[] response, out bool cancelled)
    {
        response = [];
        cancelled = line == "*";
        if (cancelled || line == "=" || line.Length == 0)
        {
            return true;
        }

        var buffer = new byte[(line.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(line, buffer, out var written))
        {
            return false;
        }

        response = buffer.AsSpan(0, written).ToArray();
        return true;
    }
}
