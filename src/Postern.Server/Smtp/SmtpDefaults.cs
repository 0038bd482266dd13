using Postern.Store;

namespace Postern.Server.Smtp;

/// <summary>The SMTP virtual servers created at first start.</summary>
public static class SmtpDefaults
{
    public const string DefaultServerName = "Default SMTP Virtual Server";
    public const string SubmissionServerName = "Client Submission";

    public static IReadOnlyList<VirtualServer> Create(string serverName) =>
    [
        // Port 25: receives for the local domains from anyone, relays for no one; STARTTLS offered.
        new VirtualServer
        {
            Name = DefaultServerName,
            Protocol = ServiceProtocol.Smtp,
            ServerName = serverName,
            Bindings = [new Binding("127.0.0.1", 25, BindingMode.StartTls)],
            AuthenticationMethods = ["PLAIN", "LOGIN", "EXTERNAL"],
            Security = new SecurityOptions { RequireSecureChannel = false },
            RequireAuthentication = false,
            RelayAddresses = [],
        },

        // RFC 6409 submission on 587 (STARTTLS) and RFC 8314 implicit TLS on 465: AUTH required, never in clear text.
        new VirtualServer
        {
            Name = SubmissionServerName,
            Protocol = ServiceProtocol.Smtp,
            ServerName = serverName,
            Bindings = [new Binding("127.0.0.1", 587, BindingMode.StartTls), new Binding("127.0.0.1", 465, BindingMode.ImplicitTls)],
            AuthenticationMethods = ["PLAIN", "LOGIN", "EXTERNAL"],
            Security = new SecurityOptions { RequireSecureChannel = true },
            RequireAuthentication = true,
            RelayAddresses = [],
        },
    ];
}
