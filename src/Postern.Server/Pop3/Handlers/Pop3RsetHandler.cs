namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §5 RSET: unmarks every message marked deleted.</summary>
internal static class Pop3RsetHandler
{
    public static Pop3Flow Handle(Pop3Session session, Pop3Maildrop maildrop)
    {
        maildrop.Reset();
        session.Ok($"Maildrop has {maildrop.Count} messages ({maildrop.Size} octets)");
        return Pop3Flow.Continue;
    }
}
