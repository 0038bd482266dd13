using Postern.Protocols.Pop3;

namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §5 DELE msg: marks only; the message goes in the UPDATE state.</summary>
internal static class Pop3DeleHandler
{
    public static Pop3Flow Handle(Pop3Session session, Pop3Maildrop maildrop, Pop3Command command)
    {
        if (Pop3MessageNumbers.Find(session, maildrop, command.MessageNumber ?? 0) is { } message)
        {
            message.Deleted = true;
            session.Ok($"Message {message.Number} deleted");
        }

        return Pop3Flow.Continue;
    }
}
