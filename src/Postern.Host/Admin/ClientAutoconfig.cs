using System.Xml.Linq;
using Postern.Host.Serve;
using Postern.Store;

namespace Postern.Host.Admin;

/// <summary>
/// Account set-up for mail clients, from the virtual servers as they are configured: Thunderbird's autoconfig
/// (clientConfig 1.1, asked for at /.well-known/autoconfig/mail/config-v1.1.xml and /mail/config-v1.1.xml) and
/// Outlook's Autodiscover (POX, POST /autodiscover/autodiscover.xml), which Exchange answers. No token: the answer
/// names only host names, ports and security, which every client needs before it has an account.
/// </summary>
internal static class ClientAutoconfig
{
    private static readonly XNamespace AutodiscoverResponse = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
    private static readonly XNamespace OutlookResponse = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

    public static void Map(WebApplication app, PosternServer server)
    {
        app.MapGet("/.well-known/autoconfig/mail/config-v1.1.xml", (CancellationToken ct) => ThunderbirdAsync(server, ct));
        app.MapGet("/mail/config-v1.1.xml", (CancellationToken ct) => ThunderbirdAsync(server, ct));

        // Routes match without regard to case: Outlook asks for /Autodiscover/Autodiscover.xml.
        app.MapPost("/autodiscover/autodiscover.xml", (HttpRequest request, CancellationToken ct) => OutlookAsync(server, request, ct));
    }

    /// <summary>One way in: a protocol, a port and whether TLS starts at once or after STARTTLS.</summary>
    internal sealed record Endpoint(string Protocol, int Port, bool ImplicitTls);

    /// <summary>
    /// What a client should use, best first: implicit TLS before STARTTLS (RFC 8314 §3), IMAP before POP3, and for
    /// SMTP only the virtual servers that require AUTH (submission, RFC 6409), never the port-25 relay.
    /// </summary>
    internal static IReadOnlyList<Endpoint> Endpoints(IEnumerable<VirtualServer> servers, int portOffset)
    {
        var endpoints = new List<Endpoint>();
        foreach (var server in servers.Where(s => s.Enabled))
        {
            var protocol = server.Protocol switch
            {
                ServiceProtocol.Imap => "imap",
                ServiceProtocol.Pop3 => "pop3",
                ServiceProtocol.Smtp when server.RequireAuthentication => "smtp",
                _ => null,
            };
            if (protocol is null)
            {
                continue;
            }

            // The ports the listeners really use: a server started with --port-offset listens on the standard port + N.
            endpoints.AddRange(server.Bindings.Where(b => b.Port != 0).Select(b => new Endpoint(protocol, b.Port + portOffset, b.Mode == BindingMode.ImplicitTls)));
        }

        return [.. endpoints.Distinct().OrderBy(e => e.Protocol switch { "imap" => 0, "pop3" => 1, _ => 2 }).ThenBy(e => e.ImplicitTls ? 0 : 1).ThenBy(e => e.Port)];
    }

    private static async Task<IResult> ThunderbirdAsync(PosternServer server, CancellationToken ct)
    {
        var endpoints = Endpoints(await server.Store.Configuration.ListVirtualServersAsync(ct), server.Context.PortOffset);
        var domains = await server.Store.Directory.ListDomainsAsync(ct);
        var host = server.HostName;
        XElement Server(Endpoint e) => new(e.Protocol == "smtp" ? "outgoingServer" : "incomingServer",
            new XAttribute("type", e.Protocol),
            new XElement("hostname", host),
            new XElement("port", e.Port),
            new XElement("socketType", e.ImplicitTls ? "SSL" : "STARTTLS"),
            new XElement("authentication", "password-cleartext"),
            new XElement("username", "%EMAILADDRESS%"));
        var provider = new XElement("emailProvider", new XAttribute("id", domains.Count > 0 ? domains[0].Name : host),
            domains.Select(d => new XElement("domain", d.Name)),
            new XElement("displayName", "Postern (" + host + ")"),
            new XElement("displayShortName", "Postern"),
            endpoints.Where(e => e.Protocol != "smtp").Select(Server),
            endpoints.Where(e => e.Protocol == "smtp").Select(Server));
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("clientConfig", new XAttribute("version", "1.1"), provider));
        return Results.Text(document.Declaration + "\n" + document.Root, "application/xml; charset=utf-8");
    }

    private static async Task<IResult> OutlookAsync(PosternServer server, HttpRequest request, CancellationToken ct)
    {
        // The request names the user: <Autodiscover><Request><EMailAddress>. It is echoed only if it is a plain address.
        // At most 64 KiB of it is read, whatever the request declares (a chunked body declares nothing).
        const int MaxRequest = 64 * 1024;
        string? address = null;
        if (request.ContentLength is null or <= MaxRequest)
        {
            var buffer = new char[MaxRequest + 1];
            using var reader = new StreamReader(request.Body);
            var length = await reader.ReadBlockAsync(buffer, ct).ConfigureAwait(false);
            if (length <= MaxRequest)
            {
                try
                {
                    var settings = new System.Xml.XmlReaderSettings { DtdProcessing = System.Xml.DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxRequest };
                    using var xml = System.Xml.XmlReader.Create(new StringReader(new string(buffer, 0, length)), settings);
                    address = XDocument.Load(xml).Descendants().FirstOrDefault(e => e.Name.LocalName == "EMailAddress")?.Value.Trim();
                }
                catch (System.Xml.XmlException)
                {
                    address = null;
                }
            }
        }

        if (address is not null && !AddressSyntax.IsValidMailbox(address))
        {
            address = null;
        }

        var endpoints = Endpoints(await server.Store.Configuration.ListVirtualServersAsync(ct), server.Context.PortOffset);
        var host = server.HostName;
        XElement Protocol(Endpoint e) => new(OutlookResponse + "Protocol",
            new XElement(OutlookResponse + "Type", e.Protocol.ToUpperInvariant()),
            new XElement(OutlookResponse + "Server", host),
            new XElement(OutlookResponse + "Port", e.Port),
            new XElement(OutlookResponse + "LoginName", address ?? string.Empty),
            new XElement(OutlookResponse + "DomainRequired", "off"),
            new XElement(OutlookResponse + "SPA", "off"),
            new XElement(OutlookResponse + "SSL", "on"),
            new XElement(OutlookResponse + "Encryption", e.ImplicitTls ? "SSL" : "TLS"),
            new XElement(OutlookResponse + "AuthRequired", "on"));

        // One entry per protocol: Outlook takes the first of each type.
        var chosen = endpoints.GroupBy(e => e.Protocol).Select(g => g.First());
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null),
            new XElement(AutodiscoverResponse + "Autodiscover",
                new XElement(OutlookResponse + "Response",
                    new XElement(OutlookResponse + "Account",
                        new XElement(OutlookResponse + "AccountType", "email"),
                        new XElement(OutlookResponse + "Action", "settings"),
                        chosen.Select(Protocol)))));
        return Results.Text(document.Declaration + "\n" + document.Root, "application/xml; charset=utf-8");
    }
}
