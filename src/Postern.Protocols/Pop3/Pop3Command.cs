namespace Postern.Protocols.Pop3;

/// <summary>The POP3 commands Postern knows (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH).</summary>
public enum Pop3Verb
{
    User = 0,
    Pass = 1,
    Apop = 2,
    Auth = 3,
    Stls = 4,
    Capa = 5,
    Quit = 6,
    Stat = 7,
    List = 8,
    Retr = 9,
    Dele = 10,
    Noop = 11,
    Rset = 12,
    Top = 13,
    Uidl = 14,
}

/// <summary>RFC 1939 §3: a session moves AUTHORIZATION → TRANSACTION → UPDATE.</summary>
public enum Pop3State
{
    Authorization = 0,
    Transaction = 1,
    Update = 2,
}

public enum Pop3ParseError
{
    None = 0,

    /// <summary>An empty (or all-blank) line.</summary>
    Empty = 1,

    /// <summary>A keyword Postern does not implement.</summary>
    UnknownCommand = 2,

    /// <summary>The wrong number or form of arguments for a known keyword.</summary>
    BadArguments = 3,

    /// <summary>NUL, other control characters, or bytes that are not UTF-8.</summary>
    InvalidCharacters = 4,
}

/// <summary>One parsed command line.</summary>
/// <param name="Verb">The keyword.</param>
/// <param name="Argument">USER name, PASS secret (the rest of the line, spaces included), AUTH mechanism, APOP name.</param>
/// <param name="SecondArgument">AUTH initial response, APOP digest.</param>
/// <param name="MessageNumber">LIST/UIDL (optional), RETR, DELE, TOP.</param>
/// <param name="LineCount">TOP's number of body lines.</param>
public sealed record Pop3Command(Pop3Verb Verb, string? Argument = null, string? SecondArgument = null, long? MessageNumber = null, long? LineCount = null)
{
    /// <summary>Never shows a password or SASL data (for logs and test failure messages).</summary>
    public override string ToString() => Verb switch
    {
        Pop3Verb.Pass => "PASS ***",
        Pop3Verb.Auth => SecondArgument is null ? $"AUTH {Argument}" : $"AUTH {Argument} ***",
        _ => $"{Verb.ToString().ToUpperInvariant()} {Argument} {MessageNumber} {LineCount}".TrimEnd(),
    };
}
