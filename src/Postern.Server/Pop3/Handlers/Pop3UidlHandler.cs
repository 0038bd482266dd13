using System.Globalization;
using Postern.Protocols.Pop3;

namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §7 UIDL [msg]: "msg unique-id", the id stable across sessions ("uidvalidity.uid").</summary>
internal static class Pop3UidlHandler
{
    public static Pop3Flow Handle(Pop3Session session, Pop3Maildrop maildrop, Pop3Command command)
    {
        if (command.MessageNumber is { } number)
        {
            if (Pop3MessageNumbers.Find(session, maildrop, number) is { } message)
            {
                session.Ok(string.Create(CultureInfo.InvariantCulture, $"{message.Number} {message.UniqueId}"));
            }

            return Pop3Flow.Continue;
        }

        session.Ok("Unique-id listing follows");
        foreach (var message in maildrop.Messages)
        {
            if (!message.Deleted)
            {
                Pop3ReplyWriter.WriteUniqueIdLine(session.Channel.Output, message.Number, message.UniqueId);
            }
        }

        Pop3ReplyWriter.WriteEnd(session.Channel.Output);
        return Pop3Flow.Continue;
    }
}
