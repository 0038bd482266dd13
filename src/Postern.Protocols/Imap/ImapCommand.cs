namespace Postern.Protocols.Imap;

/// <summary>One complete tagged command: <c>tag SP command-name [SP arguments]</c>.</summary>
/// <param name="Tag">The client's tag, as sent.</param>
/// <param name="Name">The upper-cased command name; <c>UID</c> is joined with its verb ("UID FETCH").</param>
/// <param name="Arguments">The argument tokens after the name.</param>
/// <param name="Size">Octets the command took on the wire, literals included.</param>
public sealed record ImapCommand(string Tag, string Name, IReadOnlyList<ImapToken> Arguments, long Size)
{
    public ImapArgumentReader GetReader() => new(Arguments);
}
