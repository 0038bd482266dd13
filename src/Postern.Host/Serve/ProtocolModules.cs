using Postern.Server.Connections;
using Postern.Server.Imap;
using Postern.Server.Nntp;
using Postern.Server.Pop3;
using Postern.Server.Smtp;
using Postern.Store;

namespace Postern.Host.Serve;

/// <summary>The protocols this build serves: their session handlers and the virtual servers created at first start.</summary>
internal static class ProtocolModules
{
    /// <param name="articleAccepted">Called when NNTP takes an article, so the feeds send it at once.</param>
    public static IEnumerable<IProtocolHandler> Handlers(ServerContext context, Action articleAccepted) =>
    [
        new SmtpProtocolHandler(context.HostName),
        new Pop3ProtocolHandler(context),
        new ImapProtocolHandler(context),
        new NntpProtocolHandler(context, articleAccepted),
    ];

    public static IEnumerable<VirtualServer> Defaults(string serverName) =>
    [
        .. SmtpDefaults.Create(serverName),
        .. Pop3Defaults.Create(serverName),
        .. ImapDefaults.Create(serverName),
        .. NntpDefaults.Create(serverName),
        HttpDefaults(serverName),
    ];

    /// <summary>The admin console and API (the article's HTTP virtual server), implicit TLS on 443.</summary>
    public static VirtualServer HttpDefaults(string serverName) => new()
    {
        Name = "Default HTTP Virtual Server",
        Protocol = ServiceProtocol.Http,
        ServerName = serverName,

        // 443 serves the console and API over TLS; 80 publishes only the CRL and CA certificate (CDP/AIA).
        Bindings = [new Binding("127.0.0.1", 443, BindingMode.ImplicitTls), new Binding("127.0.0.1", 80, BindingMode.StartTls)],
        Security = new SecurityOptions { RequireSecureChannel = true, Require128BitEncryption = true, ClientCertificates = ClientCertificateMode.Off },
        AuthenticationMethods = ["TOKEN"],
    };
}
