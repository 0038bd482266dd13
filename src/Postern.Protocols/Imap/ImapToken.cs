using System.Text;

namespace Postern.Protocols.Imap;

public enum ImapTokenKind
{
    /// <summary>An atom; may carry a bracketed <see cref="ImapToken.Section"/> and a suffix such as <c>&lt;0.100&gt;</c>.</summary>
    Atom = 0,
    QuotedString = 1,
    Literal = 2,
    /// <summary>The atom NIL (case-insensitive). Where an astring is expected it still reads as the text "NIL".</summary>
    Nil = 3,
    List = 4,
}

/// <summary>One node of a parsed command's argument tree. Values are slices of the command's own buffer.</summary>
public sealed class ImapToken
{
    private static readonly ImapToken[] NoChildren = [];

    private ImapToken(ImapTokenKind kind, ReadOnlyMemory<byte> value, ReadOnlyMemory<byte> raw, IReadOnlyList<ImapToken> children)
    {
        Kind = kind;
        Value = value;
        Raw = raw;
        Children = children;
    }

    public ImapTokenKind Kind { get; }

    /// <summary>Atom: the text before any '['. Quoted: the unescaped content. Literal: the literal's octets.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>Atom: the whole atom as sent, section and suffix included (what an astring means).</summary>
    public ReadOnlyMemory<byte> Raw { get; }

    public IReadOnlyList<ImapToken> Children { get; }

    /// <summary>For <c>BODY[...]</c>-style atoms: the tokens between the brackets; null when the atom has no section.</summary>
    public IReadOnlyList<ImapToken>? Section { get; private init; }

    /// <summary>The text after ']' (a partial such as <c>&lt;0.1024&gt;</c>); empty when none.</summary>
    public ReadOnlyMemory<byte> Suffix { get; private init; }

    /// <summary>A literal8 (<c>~{n}</c>, RFC 3516) — may contain NUL.</summary>
    public bool IsBinary { get; private init; }

    /// <summary>A non-synchronizing literal (<c>{n+}</c>).</summary>
    public bool IsNonSynchronizing { get; private init; }

    public bool IsAtom => Kind == ImapTokenKind.Atom;

    public bool IsString => Kind is ImapTokenKind.QuotedString or ImapTokenKind.Literal;

    public bool IsList => Kind == ImapTokenKind.List;

    public bool HasSection => Section is not null;

    internal static ImapToken Atom(ReadOnlyMemory<byte> raw) => new(ImapTokenKind.Atom, raw, raw, NoChildren);

    internal static ImapToken Nil(ReadOnlyMemory<byte> raw) => new(ImapTokenKind.Nil, raw, raw, NoChildren);

    internal static ImapToken SectionAtom(ReadOnlyMemory<byte> prefix, IReadOnlyList<ImapToken> section, ReadOnlyMemory<byte> suffix, ReadOnlyMemory<byte> raw) =>
        new(ImapTokenKind.Atom, prefix, raw, NoChildren) { Section = section, Suffix = suffix };

    internal static ImapToken Quoted(ReadOnlyMemory<byte> value) => new(ImapTokenKind.QuotedString, value, value, NoChildren);

    internal static ImapToken Literal(ReadOnlyMemory<byte> value, bool binary, bool nonSynchronizing) =>
        new(ImapTokenKind.Literal, value, value, NoChildren) { IsBinary = binary, IsNonSynchronizing = nonSynchronizing };

    internal static ImapToken List(IReadOnlyList<ImapToken> children) => new(ImapTokenKind.List, default, default, children);

    /// <summary>Test-friendly constructor of an atom from text.</summary>
    public static ImapToken FromAtom(string text) => Atom(Encoding.UTF8.GetBytes(text));

    /// <summary>True when this is an atom (without section) equal to <paramref name="word"/>, ignoring ASCII case.</summary>
    public bool IsAtomText(string word)
    {
        if (Kind is not (ImapTokenKind.Atom or ImapTokenKind.Nil) || Section is not null)
        {
            return false;
        }

        return Ascii.EqualsIgnoreCase(Raw.Span, word);
    }

    /// <summary>The token as an astring (atom, quoted or literal) decoded as UTF-8; null for lists.</summary>
    public string? AsString() => Kind switch
    {
        ImapTokenKind.Atom or ImapTokenKind.Nil => Encoding.UTF8.GetString(Raw.Span),
        ImapTokenKind.QuotedString or ImapTokenKind.Literal => Encoding.UTF8.GetString(Value.Span),
        _ => null,
    };

    public override string ToString() => Kind switch
    {
        ImapTokenKind.List => "(" + string.Join(' ', Children) + ")",
        ImapTokenKind.QuotedString => "\"" + Encoding.UTF8.GetString(Value.Span) + "\"",
        ImapTokenKind.Literal => (IsBinary ? "~{" : "{") + Value.Length + "}",
        _ => Encoding.UTF8.GetString(Raw.Span),
    };
}
