using Postern.Protocols.Pop3;

namespace Postern.Server.Pop3.Handlers;

/// <summary>RFC 2449 §5 CAPA: what this session can do now.</summary>
internal static class Pop3CapaHandler
{
    public static Pop3Flow Handle(Pop3Session session)
    {
        var output = session.Channel.Output;
        session.Ok("Capability list follows");
        Pop3ReplyWriter.WriteLine(output, "TOP");
        Pop3ReplyWriter.WriteLine(output, "UIDL");
        Pop3ReplyWriter.WriteLine(output, "RESP-CODES");
        Pop3ReplyWriter.WriteLine(output, "AUTH-RESP-CODE");
        Pop3ReplyWriter.WriteLine(output, "PIPELINING");
        if (session.State == Pop3State.Authorization)
        {
            // RFC 2595 §6: where credentials may not be sent yet, USER and SASL are not advertised.
            if (session.MayAuthenticate)
            {
                Pop3ReplyWriter.WriteLine(output, "USER");
                var mechanisms = session.Mechanisms;
                if (mechanisms.Count > 0)
                {
                    Pop3ReplyWriter.WriteLine(output, "SASL " + string.Join(' ', mechanisms));
                }
            }

            if (session.Connection.CanStartTls)
            {
                Pop3ReplyWriter.WriteLine(output, "STLS");
            }
        }

        Pop3ReplyWriter.WriteLine(output, "IMPLEMENTATION Postern");
        Pop3ReplyWriter.WriteEnd(output);
        return Pop3Flow.Continue;
    }
}
