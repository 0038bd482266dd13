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
        var sources = new Sources(limit * ImapDefaults.CatenateReadFactor(session.Config));
        var messages = new List<ImapAppendMessage>(request.Messages.Count);

        // All messages of one command together, as for literals (the reader's whole-command bound): a MULTIAPPEND of
        // many URLs of one large message would otherwise assemble it many times over in memory.
        var commandLimit = session.CommandSizeLimit;
        long assembled = request.Messages.Where(m => m.Catenate is null).Sum(m => (long)m.Content.Length);
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
                    if (!ImapUrl.TryParse(url, out var parsed) || await sources.ReadAsync(session, parsed, cancellationToken) is not { } resolved)
                    {
                        if (sources.OverBudget)
                        {
                            // RFC 5530 §3: an administrative limit, not a bad URL.
                            session.No(command, "The URLs name too much stored mail", "LIMIT");
                            return null;
                        }

                        // RFC 4469 §5: NO [BADURL url] for a URL that is invalid or names nothing this user may read.
                        session.No(command, "Cannot use the URL", "BADURL " + ResponseText(url));
                        return null;
                    }

                    data = resolved;
                }

                // RFC 4469 §5: TOOBIG once the parts together exceed the largest message; nothing more is read.
                if (content.Length + data.Length > limit || assembled + data.Length > commandLimit)
                {
                    session.No(command, "Message too large", "TOOBIG");
                    return null;
                }

                content.Write(data.Span);
                assembled += data.Length;
            }

            messages.Add(message with { Content = content.ToArray(), Catenate = null });
        }

        return request with { Messages = messages };
    }

    /// <summary>
    /// The messages read so far for one APPEND, each read and parsed once (a thousand one-octet PARTIALs of one large
    /// message read it once), and no more of them than the budget (<see cref="ImapDefaults.CatenateReadFactorSetting"/>).
    /// </summary>
    private sealed class Sources(long budget)
    {
        private readonly Dictionary<(long Mailbox, uint Uid), ImapMessageView?> _read = [];
        private readonly Dictionary<string, Postern.Store.Mailbox?> _mailboxes = new(StringComparer.Ordinal);
        private long _bytesRead;

        public bool OverBudget { get; private set; }

        public async Task<ReadOnlyMemory<byte>?> ReadAsync(ImapSession session, ImapUrl url, CancellationToken cancellationToken)
        {
            var account = session.Account!;

            // An absolute URL must name this server and this user: nothing else can be read from here (RFC 4469 §3 leaves
            // URLs for other servers to URLAUTH, which Postern does not offer).
            if ((url.Host is { } host && !host.Equals(session.Context.HostName, StringComparison.OrdinalIgnoreCase)) ||
                (url.User is { } user && !user.Equals(account.Address, StringComparison.OrdinalIgnoreCase)))
            {
                return null;
            }

            var name = ImapSession.NormalizeMailbox(url.Mailbox);
            if (!_mailboxes.TryGetValue(name, out var mailbox))
            {
                mailbox = await session.Mail.GetMailboxAsync(account.Id, name, cancellationToken);
                _mailboxes[name] = mailbox;
            }

            if (mailbox is null || (url.UidValidity is { } validity && validity != mailbox.UidValidity))
            {
                return null;
            }

            if (!_read.TryGetValue((mailbox.Id, url.Uid), out var view))
            {
                var content = await session.Mail.ReadMessageContentAsync(mailbox.Id, url.Uid, cancellationToken);
                _bytesRead += content?.Length ?? 0;
                if (_bytesRead > budget)
                {
                    OverBudget = true;
                    return null;
                }

                view = content is null ? null : ImapMessageView.Parse(content);
                _read[(mailbox.Id, url.Uid)] = view;
            }

            return view is null ? null : Slice(view, url);
        }
    }

    private static ReadOnlyMemory<byte>? Slice(ImapMessageView view, ImapUrl url)
    {
        if (view.GetSection(url.Section) is not { } data)
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
