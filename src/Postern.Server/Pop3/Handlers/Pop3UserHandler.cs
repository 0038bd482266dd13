using Postern.Protocols.Pop3;

namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §7 USER name.</summary>
internal static class Pop3UserHandler
{
    public static Pop3Flow Handle(Pop3Session session, Pop3Command command)
    {
        // Whether the name exists is only told after PASS, so USER cannot be used to probe accounts.
        session.PendingUser = command.Argument;
        session.Ok("Send PASS");
        return Pop3Flow.Continue;
    }
}
