using System.Globalization;
using Postern.Protocols.Pop3;

namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §5 LIST [msg]: scan listings "msg size".</summary>
internal static class Pop3ListHandler
{
    public static Pop3Flow Handle(Pop3Session session, Pop3Maildrop maildrop, Pop3Command command)
    {
        if (command.MessageNumber is { } number)
        {
            if (Pop3MessageNumbers.Find(session, maildrop, number) is { } message)
            {
                session.Ok(string.Create(CultureInfo.InvariantCulture, $"{message.Number} {message.Size}"));
            }

            return Pop3Flow.Continue;
        }

        session.Ok(string.Create(CultureInfo.InvariantCulture, $"{maildrop.Count} messages ({maildrop.Size} octets)"));
        foreach (var message in maildrop.Messages)
        {
            if (!message.Deleted)
            {
                Pop3ReplyWriter.WriteScanLine(session.Channel.Output, message.Number, message.Size);
            }
        }

        Pop3ReplyWriter.WriteEnd(session.Channel.Output);
        return Pop3Flow.Continue;
    }
}
