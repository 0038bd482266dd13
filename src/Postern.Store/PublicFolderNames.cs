using System.Text;

namespace Postern.Store;

/// <summary>Syntax of public folder paths and newsgroup names.</summary>
public static class PublicFolderNames
{
    public const char Delimiter = '/';

    public static bool IsValidPath(string path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > 1000)
        {
            return false;
        }

        foreach (var segment in path.Split(Delimiter))
        {
            // "." and ".." read as relative paths, and IMAP's LIST wildcards '*' and '%' could never be listed on their
            // own (RFC 9051 §5.1: names SHOULD NOT hold them); every such folder is refused where it would be made.
            if (segment.Length == 0 || segment.Trim().Length != segment.Length || segment.Any(char.IsControl)
                || segment is "." or ".." || segment.AsSpan().IndexOfAny('*', '%') >= 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 3977 §4.1 newsgroup-name, narrowed to the conventional (RFC 5536 §3.1.4) component syntax.</summary>
    public static bool IsValidNewsgroup(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 250)
        {
            return false;
        }

        foreach (var component in name.Split('.'))
        {
            if (component.Length == 0 || !component.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The conventional newsgroup name of a folder path: "Example/General" → "example.general".</summary>
    public static string ToNewsgroup(string path)
    {
        var builder = new StringBuilder(path.Length);
        foreach (var c in path.ToLowerInvariant())
        {
            builder.Append(c switch
            {
                Delimiter => '.',
                _ when char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '_' => c,
                _ => '-',
            });
        }

        return builder.ToString();
    }

    /// <summary>The parent path, or null for a top-level folder.</summary>
    public static string? Parent(string path)
    {
        var slash = path.LastIndexOf(Delimiter);
        return slash <= 0 ? null : path[..slash];
    }
}
