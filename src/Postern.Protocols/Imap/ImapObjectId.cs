namespace Postern.Protocols.Imap;

/// <summary>Object identifiers of RFC 8474: <c>objectid = 1*255(ALPHA / DIGIT / "_" / "-")</c>.</summary>
public static class ImapObjectId
{
    public const int MaxLength = 255;

    public static bool IsValid(string id) =>
        id.Length is > 0 and <= MaxLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
