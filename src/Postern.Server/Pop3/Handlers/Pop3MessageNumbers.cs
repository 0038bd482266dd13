namespace Postern.Server.Pop3.Handlers;

/// <summary>The replies shared by every command that names a message.</summary>
internal static class Pop3MessageNumbers
{
    /// <summary>Finds a message that is not marked deleted, or writes the -ERR (RFC 1939 §5: "may NOT refer to a message marked as deleted").</summary>
    public static Pop3Message? Find(Pop3Session session, Pop3Maildrop maildrop, long number)
    {
        switch (maildrop.Find(number, out var message))
        {
            case Pop3Lookup.Found:
                return message;
            case Pop3Lookup.AlreadyDeleted:
                session.Error(null, $"Message {number} already deleted");
                return null;
            default:
                session.Error(null, "No such message");
                return null;
        }
    }
}
