namespace Postern.Protocols.Pop3;

/// <summary>Why a command may not run now.</summary>
public enum Pop3Gate
{
    Allowed = 0,

    /// <summary>The command exists but not in this state (RFC 1939 §3).</summary>
    WrongState = 1,

    /// <summary>It would send credentials on a channel that must first be secured (RFC 2595 §6, Require secure channel).</summary>
    NeedsSecureChannel = 2,
}

/// <summary>Which command runs in which state, and which ones carry credentials: the policy as data.</summary>
public static class Pop3StateTable
{
    private static readonly Dictionary<Pop3Verb, Rule> s_rules = new()
    {
        // RFC 1939 §4: the AUTHORIZATION state.
        [Pop3Verb.User] = new(Authorization: true, Transaction: false, CarriesCredentials: true),
        [Pop3Verb.Pass] = new(Authorization: true, Transaction: false, CarriesCredentials: true),
        [Pop3Verb.Apop] = new(Authorization: true, Transaction: false, CarriesCredentials: true),
        [Pop3Verb.Auth] = new(Authorization: true, Transaction: false, CarriesCredentials: true),

        // RFC 2595 §4: "The STLS command is only permitted in AUTHORIZATION state".
        [Pop3Verb.Stls] = new(Authorization: true, Transaction: false, CarriesCredentials: false),

        // RFC 2449 §5: CAPA is valid in every state; QUIT too (RFC 1939 §4, §6).
        [Pop3Verb.Capa] = new(Authorization: true, Transaction: true, CarriesCredentials: false),
        [Pop3Verb.Quit] = new(Authorization: true, Transaction: true, CarriesCredentials: false),

        // RFC 1939 §5: the TRANSACTION state.
        [Pop3Verb.Stat] = new(Authorization: false, Transaction: true, CarriesCredentials: false),
        [Pop3Verb.List] = new(Authorization: false, Transaction: true, CarriesCredentials: false),
        [Pop3Verb.Retr] = new(Authorization: false, Transaction: true, CarriesCredentials: false),
        [Pop3Verb.Dele] = new(Authorization: false, Transaction: true, CarriesCredentials: false),
        [Pop3Verb.Noop] = new(Authorization: false, Transaction: true, CarriesCredentials: false),
        [Pop3Verb.Rset] = new(Authorization: false, Transaction: true, CarriesCredentials: false),
        [Pop3Verb.Top] = new(Authorization: false, Transaction: true, CarriesCredentials: false),
        [Pop3Verb.Uidl] = new(Authorization: false, Transaction: true, CarriesCredentials: false),
    };

    /// <param name="verb">The command.</param>
    /// <param name="state">The session's state; nothing runs in UPDATE.</param>
    /// <param name="mayAuthenticate">Whether credentials may be sent on this connection now (secure, or no secure channel required).</param>
    public static Pop3Gate Check(Pop3Verb verb, Pop3State state, bool mayAuthenticate)
    {
        var rule = s_rules[verb];
        var allowed = state switch
        {
            Pop3State.Authorization => rule.Authorization,
            Pop3State.Transaction => rule.Transaction,
            _ => false,
        };
        if (!allowed)
        {
            return Pop3Gate.WrongState;
        }

        return rule.CarriesCredentials && !mayAuthenticate ? Pop3Gate.NeedsSecureChannel : Pop3Gate.Allowed;
    }

    private readonly record struct Rule(bool Authorization, bool Transaction, bool CarriesCredentials);
}
