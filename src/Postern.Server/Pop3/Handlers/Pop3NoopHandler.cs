namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §5 NOOP.</summary>
internal static class Pop3NoopHandler
{
    public static Pop3Flow Handle(Pop3Session session)
    {
        session.Ok("");
        return Pop3Flow.Continue;
    }
}
