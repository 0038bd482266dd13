using System.Net;
using Postern.Store;

namespace Postern.Host.Serve;

internal static class HostNames
{
    /// <summary>The machine's fully qualified name when it has one with a dot, else "localhost".</summary>
    public static string Default()
    {
        try
        {
            var name = Dns.GetHostEntry(Dns.GetHostName()).HostName;
            return name.Contains('.', StringComparison.Ordinal) && AddressSyntax.IsValidDomain(name) ? name.ToLowerInvariant() : "localhost";
        }
        catch (System.Net.Sockets.SocketException)
        {
            return "localhost";
        }
    }
}
