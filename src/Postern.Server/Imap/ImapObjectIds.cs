using System.Globalization;

namespace Postern.Server.Imap;

/// <summary>The object identifiers Postern gives (RFC 8474): stable ids of the store, with a letter for their kind.</summary>
internal static class ImapObjectIds
{
    /// <summary>A mailbox's MAILBOXID. Mailbox and folder ids are never reused, and RENAME keeps them (RFC 8474 §4).</summary>
    public static string ForMailbox(long mailboxId) => ImapPublicFolderStore.IsPublic(mailboxId)
        ? "P" + ImapPublicFolderStore.FolderIdOf(mailboxId).ToString(CultureInfo.InvariantCulture)
        : "M" + mailboxId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A message's EMAILID: the id of its stored content. COPY and MOVE share the content, so a copy keeps its EMAILID, and
    /// one EMAILID always means the same octets (RFC 8474 §5.1).
    /// </summary>
    public static string ForEmail(long blobId) => "E" + blobId.ToString(CultureInfo.InvariantCulture);
}
