using Microsoft.Extensions.Logging;

namespace Postern.Server.Nntp;

/// <summary>NNTP log events (6000–6099: sessions; 6100–6199: newsfeeds and expiry).</summary>
internal static partial class NntpLog
{
    [LoggerMessage(6001, LogLevel.Error, "NNTP command {Command} failed")]
    public static partial void CommandFailed(this ILogger logger, Exception exception, string command);

    [LoggerMessage(6002, LogLevel.Information, "NNTP POST {MessageId} by {Account}: {Outcome}")]
    public static partial void PostHeld(this ILogger logger, string? messageId, string account, object outcome);

    [LoggerMessage(6003, LogLevel.Debug, "NNTP POST {MessageId} by {Account}: {Outcome}")]
    public static partial void PostStored(this ILogger logger, string? messageId, string account, object outcome);

    [LoggerMessage(6004, LogLevel.Error, "NNTP: could not store article {MessageId}")]
    public static partial void StoreFailed(this ILogger logger, Exception exception, string? messageId);

    [LoggerMessage(6101, LogLevel.Warning, "News peer {Peer}: the feed runs in CLEAR TEXT (--tls none); articles and any AUTHINFO password can be read on the network")]
    public static partial void ClearTextFeed(this ILogger logger, string peer);

    [LoggerMessage(6102, LogLevel.Warning, "News peer {Peer}: {Error}")]
    public static partial void PeerFailed(this ILogger logger, string peer, string error);

    [LoggerMessage(6103, LogLevel.Information, "Removed {Count} public-folder message(s) past their folder's age limit")]
    public static partial void Expired(this ILogger logger, int count);

    [LoggerMessage(6104, LogLevel.Error, "News feed pass failed")]
    public static partial void FeedPassFailed(this ILogger logger, Exception exception);

    [LoggerMessage(6105, LogLevel.Warning, "News peer {Peer}: cannot connect: {Error}")]
    public static partial void CannotConnect(this ILogger logger, string peer, string? error);

    [LoggerMessage(6106, LogLevel.Warning, "News peer {Peer}: feed interrupted: {Error}")]
    public static partial void FeedInterrupted(this ILogger logger, string peer, string error);

    [LoggerMessage(6107, LogLevel.Information, "News peer {Peer}: {Count} article(s) offered")]
    public static partial void Offered(this ILogger logger, string peer, int count);

    [LoggerMessage(6108, LogLevel.Warning, "News peer {Peer}: cannot connect to pull: {Error}")]
    public static partial void CannotConnectToPull(this ILogger logger, string peer, string? error);

    [LoggerMessage(6109, LogLevel.Warning, "News peer {Peer}: NEWNEWS refused: {Reply}")]
    public static partial void NewNewsRefused(this ILogger logger, string peer, string reply);

    [LoggerMessage(6110, LogLevel.Warning, "News peer {Peer}: could not store {MessageId}")]
    public static partial void NotStored(this ILogger logger, string peer, string messageId);

    [LoggerMessage(6111, LogLevel.Information, "News peer {Peer}: pulled {Count} article(s)")]
    public static partial void Pulled(this ILogger logger, string peer, int count);

    [LoggerMessage(6112, LogLevel.Warning, "News peer {Peer}: {Count} article(s) not taken, offered again later: {Reply}")]
    public static partial void FeedRefused(this ILogger logger, string peer, int count, string reply);

    [LoggerMessage(6113, LogLevel.Warning, "News peer {Peer} offers articles from {Address}, but is set up here to receive our feed only (--direction push): refused; 'postern news peer add' it with --direction both (or pull) to take its feed")]
    public static partial void ReceivingOnlyPeerFeeds(this ILogger logger, string peer, string address);
}
