namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 1939 §5 STAT: "+OK nn mm", messages marked deleted not counted.</summary>
internal static class Pop3StatHandler
{
    public static Pop3Flow Handle(Pop3Session session, Pop3Maildrop maildrop)
    {
        session.Ok(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{maildrop.Count} {maildrop.Size}"));
        return Pop3Flow.Continue;
    }
}
