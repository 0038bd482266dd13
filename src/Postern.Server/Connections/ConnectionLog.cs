using Microsoft.Extensions.Logging;

namespace Postern.Server.Connections;

/// <summary>Log events of the listeners and connections (2000–2099).</summary>
internal static partial class ConnectionLog
{
    [LoggerMessage(2001, LogLevel.Information, "{VirtualServer}: listening on {Address}:{Port} ({Mode})")]
    public static partial void Listening(this ILogger logger, string virtualServer, string address, int port, object mode);

    [LoggerMessage(2002, LogLevel.Error, "{VirtualServer}: cannot listen on {Address}:{Port}: {Error}")]
    public static partial void CannotListen(this ILogger logger, string virtualServer, string address, int port, string error);

    [LoggerMessage(2003, LogLevel.Error, "{VirtualServer}: session from {Remote} failed")]
    public static partial void SessionFailed(this ILogger logger, Exception exception, string virtualServer, object remote);

    [LoggerMessage(2004, LogLevel.Warning, "{VirtualServer}: cannot accept connections on port {Port}: {Error}; waiting for sessions to end")]
    public static partial void CannotAccept(this ILogger logger, string virtualServer, int port, string error);

    [LoggerMessage(2005, LogLevel.Warning, "{Max} connections are open, all the open-files limit leaves room for: new ones are refused as busy; raise the limit (LimitNOFILE, ulimit -n) to take more")]
    public static partial void OutOfDescriptors(this ILogger logger, int max);
}
