using Postern.Protocols.Imap;

namespace Postern.Server.Imap;

/// <summary>
/// CATENATE (RFC 4469): builds each message of an APPEND from its literal parts and from URLs of messages the user can
/// read, on this server, in this user's mailboxes or the public folders the user may read.
/// </summary>
internal static class ImapCatenation
{
    /// <summary>The request with every message's content assembled, or null once a NO has been written.</summary>
    public static async Task<ImapAppendRequest?> ResolveAsync(ImapSession session, ImapCommand command, ImapAppendRequest request, CancellationToken cancellationToken)
    {
        if (request.Messages.All(m => m.Catenate is null))
        {
            return request;
        }

        var limit = session.Config.Limits.MaxMessageSize;
        var messages = new List<ImapAppendMessage>(request.Messages.Count);
        foreach (var message in request.Messages)
        {
            if (message.Catenate is not { } parts)
            {
                messages.Add(message);
                continue;
            }

            using var content = new MemoryStream();
            foreach (var part in parts)
            {
                ReadOnlyMemory<byte> data;
                if (part is ImapCatenateText text)
                {
                    data = text.Content;
                }
                else
                {
                    var url = ((ImapCatenateUrl)part).Url;
                    if (await ReadUrlAsync(session, url, cancellationToken) is not { } resolved)
                    {
                        // RFC 4469 §5: NO [BADURL url] for a URL that is invalid or names nothing this user may read.
                        session.No(command, "Cannot use the URL", "BADURL " + ResponseText(url));
                        return null;
                    }

                    data = resolved;
                }

                // RFC 4469 §5: TOOBIG once the parts together exceed the largest message; nothing more is read.
                if (content.Length + data.Length > limit)
                {
                    session.No(command, "Message too large", "TOOBIG");
                    return null;
                }

                content.Write(data.Span);
            }

            messages.Add(message with { Content = content.ToArray(), Catenate = null });
        }

        return request with { Messages = messages };
    }

    private static async Task<ReadOnlyMemory<byte>?> ReadUrlAsync(ImapSession session, string text, CancellationToken cancellationToken)
    {
        if (!ImapUrl.TryParse(text, out var url))
        {
            return null;
        }

        // An absolute URL must name this server and this user: nothing else can be read from here (RFC 4469 §3 leaves
        // URLs for other servers to URLAUTH, which Postern does not offer).
        var account = session.Account!;
        if ((url.Host is { } host && !host.Equals(session.Context.HostName, StringComparison.OrdinalIgnoreCase)) ||
            (url.User is { } user && !user.Equals(account.Address, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var mailbox = await session.Mail.GetMailboxAsync(account.Id, ImapSession.NormalizeMailbox(url.Mailbox), cancellationToken);
        if (mailbox is null || (url.UidValidity is { } validity && validity != mailbox.UidValidity))
        {
            return null;
        }

        if (await session.Mail.ReadMessageContentAsync(mailbox.Id, url.Uid, cancellationToken) is not { } content)
        {
            return null;
        }

        if (ImapMessageView.Parse(content).GetSection(url.Section) is not { } data)
        {
            return null;
        }

        if (url.PartialOffset is { } offset)
        {
            // As for BODY[]<offset.length>: an origin past the end gives nothing (RFC 3501 §6.4.5).
            data = offset >= (ulong)data.Length ? ReadOnlyMemory<byte>.Empty : data[(int)offset..];
            if (url.PartialLength is { } length && length < (ulong)data.Length)
            {
                data = data[..(int)length];
            }
        }

        return data;
    }

    /// <summary>
    /// RFC 4469 §6: <c>url-resp-text = 1*(%x01-09 / %x0B-0C / %x0E-5B / %x5D-FE)</c>. The client's URL goes back with
    /// anything that could end the code or the line replaced, and cut short.
    /// </summary>
    private static string ResponseText(string url)
    {
        const int MaxLength = 256;
        var text = new string([.. url.Take(MaxLength).Select(c => c is > ' ' and < '\x7F' and not ']' ? c : '?')]);
        return text.Length == 0 ? "?" : text;
    }
}
