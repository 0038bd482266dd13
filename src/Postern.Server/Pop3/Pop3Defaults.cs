using Postern.Store;

namespace Postern.Server.Pop3;

/// <summary>The POP3 virtual server a new Postern server gets at first start.</summary>
internal static class Pop3Defaults
{
    public const string VirtualServerName = "Default POP3 Virtual Server";

    public static IReadOnlyList<VirtualServer> Create(string serverName) =>
    [
        new VirtualServer
        {
            Name = VirtualServerName,
            Protocol = ServiceProtocol.Pop3,
            ServerName = serverName,
            Bindings =
            [
                new Binding("127.0.0.1", 110, BindingMode.StartTls),
                new Binding("127.0.0.1", 995, BindingMode.ImplicitTls),
            ],
            Security = new SecurityOptions(),
            Limits = new ConnectionLimits
            {
                // RFC 2449 §4: command lines are at most 255 octets.
                MaxLineLength = Pop3Options.DefaultMaxCommandLength,

                // RFC 1939 §3: an autologout timer "MUST be of at least 10 minutes' duration".
                IdleTimeoutSeconds = 600,
                AuthenticatedIdleTimeoutSeconds = 600,
            },
            AuthenticationMethods = ["PLAIN", "LOGIN", "EXTERNAL"],
        },
    ];
}
