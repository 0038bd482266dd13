using System.Buffers;
using System.Globalization;
using System.Text;
using Postern.Protocols.Nntp;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>Reading articles: NEXT, LAST, ARTICLE, HEAD, BODY, STAT (RFC 3977 §6.1.3–6.2), OVER, HDR (§8) and NEWNEWS (§7.4).</summary>
internal sealed partial class NntpSession
{
    private async Task NextLastAsync(bool next, CancellationToken cancellationToken)
    {
        if (_group is null)
        {
            _channel.WriteLine("412 No newsgroup selected");
            return;
        }

        if (_current is null)
        {
            _channel.WriteLine("420 Current article number is invalid");
            return;
        }

        var current = _current.Value;
        var candidates = next
            ? await _context.Store.PublicFolders.ListMessagesPageAsync(_group.Id, current + 1, long.MaxValue, 1, fromHighEnd: false, cancellationToken).ConfigureAwait(false)
            : await _context.Store.PublicFolders.ListMessagesPageAsync(_group.Id, 1, current - 1, 1, fromHighEnd: true, cancellationToken).ConfigureAwait(false);
        var found = candidates.Count == 0 ? null : candidates[0];
        if (found is null)
        {
            _channel.WriteLine(next ? "421 No next article in this group" : "422 No previous article in this group");
            return;
        }

        _current = found.Number;
        _channel.WriteLine($"223 {found.Number} {found.MessageId ?? "<0>"} retrieved");
    }

    /// <summary>Finds a readable copy of an article by Message-ID; with <paramref name="includeControl"/> a kept cancel too.</summary>
    private async Task<PublicMessage?> FindReadableAsync(string messageId, CancellationToken cancellationToken, bool includeControl = false)
    {
        foreach (var copy in await _context.Store.PublicFolders.FindByMessageIdAsync(messageId, cancellationToken).ConfigureAwait(false))
        {
            var folder = copy.FolderId == _group?.Id ? _group : await _context.Store.PublicFolders.GetFolderByIdAsync(copy.FolderId, cancellationToken).ConfigureAwait(false);
            if (folder is not null && (await RightsAsync(folder, cancellationToken).ConfigureAwait(false)).HasFlag(PublicFolderRights.Read))
            {
                return copy;
            }
        }

        // A cancel control article, to whoever may read one of its groups; it has no number.
        if (includeControl && await _context.Store.PublicFolders.FindControlArticleAsync(messageId, cancellationToken).ConfigureAwait(false) is { } control)
        {
            var readable = (await VisibleGroupsAsync(cancellationToken).ConfigureAwait(false)).Select(g => g.Folder.Newsgroup!).ToHashSet(StringComparer.OrdinalIgnoreCase);
            if (control.Newsgroups.Any(readable.Contains))
            {
                return new PublicMessage(0, 0, 0, control.BlobId, 0, 0, control.MessageId, control.Received, []);
            }
        }

        return null;
    }

    private async Task<bool> ArticleAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var argument = command.Argument(0);
        PublicMessage? message;
        long number;
        if (argument is not null && argument.StartsWith('<'))
        {
            if (!NntpSyntax.IsMessageId(argument))
            {
                _channel.WriteLine("501 Invalid message-id");
                return false;
            }

            message = await FindReadableAsync(argument, cancellationToken, includeControl: true).ConfigureAwait(false);
            if (message is null)
            {
                _channel.WriteLine("430 No article with that message-id");
                return true;
            }

            // RFC 3977 §6.2.1.2: by message-id the current article is unchanged; the number is 0 unless it is in the current group.
            number = message.FolderId == _group?.Id ? message.Number : 0;
        }
        else
        {
            if (argument is not null && !NntpSyntax.TryParseNumber(argument, out _))
            {
                _channel.WriteLine("501 Invalid article number");
                return false;
            }

            if (_group is null)
            {
                _channel.WriteLine("412 No newsgroup selected");
                return true;
            }

            if (argument is null && _current is null)
            {
                _channel.WriteLine("420 Current article number is invalid");
                return true;
            }

            number = argument is null ? _current!.Value : long.Parse(argument, CultureInfo.InvariantCulture);
            message = await _context.Store.PublicFolders.GetMessageAsync(_group.Id, number, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                _channel.WriteLine(argument is null ? "420 Current article number is invalid" : "423 No article with that number");
                return true;
            }

            _current = number;
        }

        var id = message.MessageId ?? "<0>";
        switch (command.Keyword)
        {
            case "STAT":
                _channel.WriteLine($"223 {number} {id}");
                return true;
        }

        var content = await _context.Store.PublicFolders.ReadContentAsync(message.BlobId, cancellationToken).ConfigureAwait(false);
        if (content.Length == 0)
        {
            // Removed (expunged by a moderator) between the lookup and the read.
            _channel.WriteLine(argument is not null && argument.StartsWith('<') ? "430 No article with that message-id" : "423 No article with that number");
            return true;
        }

        if (command.Keyword == "ARTICLE")
        {
            _channel.WriteLine($"220 {number} {id}");
            NntpDotStuffing.WriteBlock(_connection.Output, content);
            return true;
        }

        var (headerLength, bodyStart) = NewsArticle.FindHeaderEnd(content);
        if (command.Keyword == "HEAD")
        {
            _channel.WriteLine($"221 {number} {id}");
            NntpDotStuffing.WriteBlock(_connection.Output, content.AsSpan(0, headerLength));
        }
        else
        {
            _channel.WriteLine($"222 {number} {id}");
            NntpDotStuffing.WriteBlock(_connection.Output, content.AsSpan(bodyStart));
        }

        return true;
    }

    /// <summary>What OVER and HDR are asked for: the first page, and where a range goes on (see <see cref="PagesAsync"/>).</summary>
    private sealed record Selection(IReadOnlyList<PublicMessage> First, long FolderId, long High);

    /// <summary>The messages an OVER or HDR argument names, or null after writing the error reply.</summary>

    private async Task<Selection?> SelectAsync(string? argument, CancellationToken cancellationToken)
    {
        if (argument is not null && argument.StartsWith('<'))
        {
            if (!NntpSyntax.IsMessageId(argument))
            {
                _channel.WriteLine("501 Invalid message-id");
                return null;
            }

            var message = await FindReadableAsync(argument, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                _channel.WriteLine("430 No article with that message-id");
                return null;
            }

            return new Selection([message], message.FolderId, message.Number);
        }

        long low = 0, high = 0;
        if (argument is not null && !NntpSyntax.TryParseRange(argument, out low, out high))
        {
            _channel.WriteLine("501 Invalid range");
            return null;
        }

        if (_group is null)
        {
            _channel.WriteLine("412 No newsgroup selected");
            return null;
        }

        if (argument is null)
        {
            if (_current is null)
            {
                _channel.WriteLine("420 Current article number is invalid");
                return null;
            }

            low = high = _current.Value;
        }

        var first = low > high ? [] : await _context.Store.PublicFolders.ListMessagesPageAsync(_group.Id, low, high, PageSize, fromHighEnd: false, cancellationToken).ConfigureAwait(false);
        if (first.Count == 0)
        {
            _channel.WriteLine(argument is null ? "420 Current article number is invalid" : "423 No articles in that range");
            return null;
        }

        return new Selection(first, _group.Id, high);
    }

    /// <summary>
    /// The messages of a range a page at a time, after <paramref name="first"/> (empty: from <paramref name="low"/>), so
    /// that OVER 1- or LISTGROUP on a large group never holds the whole group in memory.
    /// </summary>
    private async IAsyncEnumerable<IReadOnlyList<PublicMessage>> PagesAsync(long folderId, IReadOnlyList<PublicMessage> first, long low, long high,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = first.Count > 0 ? first
            : await _context.Store.PublicFolders.ListMessagesPageAsync(folderId, low, high, PageSize, fromHighEnd: false, cancellationToken).ConfigureAwait(false);
        while (page.Count > 0)
        {
            yield return page;
            if (page.Count < PageSize || page[^1].Number >= high)
            {
                yield break;
            }

            // What the caller wrote of this page goes out before the next is read (a one-page answer goes in one write).
            await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
            page = await _context.Store.PublicFolders.ListMessagesPageAsync(folderId, page[^1].Number + 1, high, PageSize, fromHighEnd: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> OverAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var argument = command.Argument(0);
        var selection = await SelectAsync(argument, cancellationToken).ConfigureAwait(false);
        if (selection is null)
        {
            return true;
        }

        var byId = argument?.StartsWith('<') == true;
        _channel.WriteLine("224 Overview information follows");
        var line = new ArrayBufferWriter<byte>(512);
        await foreach (var page in PagesAsync(selection.FolderId, selection.First, 0, selection.High, cancellationToken).ConfigureAwait(false))
        {
            var xref = await XrefsAsync(page, cancellationToken).ConfigureAwait(false);
            foreach (var message in page)
            {
                var headers = NewsArticle.ParseHeaders(message.Headers);
                line.ResetWrittenCount();

                // RFC 3977 §8.3.2: by message-id the article number is 0 unless it is in the current group.
                Encoding.ASCII.GetBytes((byId && message.FolderId != _group?.Id ? 0 : message.Number).ToString(CultureInfo.InvariantCulture), line);
                foreach (var field in s_overviewFields)
                {
                    line.Write("\t"u8);
                    line.Write(NewsArticle.RawOctets(headers, field));
                }

                Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"\t{message.Size}\t{message.Lines}\tXref: {xref(message)}"), line);
                WriteDataLine(line.WrittenSpan);
            }
        }

        _channel.WriteLine(".");
        return true;
    }

    /// <summary>
    /// HDR and XHDR (RFC 3977 §8.5, RFC 2980 §2.6), and XPAT (RFC 2980 §2.9): the same lines, only those whose value
    /// matches the wildmat. INN offers XPAT, and newsreaders search with it; the words after the range are one pattern.
    /// </summary>
    private async Task<bool> HdrAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var field = command.Argument(0);
        var xpat = command.Keyword == "XPAT";
        var pattern = xpat && command.Arguments.Count >= 3 ? string.Join(' ', command.Arguments.Skip(2)) : null;
        if (field is null || (xpat && pattern is null))
        {
            _channel.WriteLine(xpat ? "501 Syntax: XPAT header range|message-id pattern [pattern ...]" : "501 Syntax: HDR field [message-id|range]");
            return false;
        }

        // A header name is printable US-ASCII without ':' (RFC 5322 §3.6.8); a metadata item starts with ':' and only
        // :bytes and :lines exist here, as LIST HEADERS says (RFC 3977 §8.5.2, §8.6.2). INN answers the same two codes.
        if (!IsHeaderOrMetadataName(field))
        {
            _channel.WriteLine("501 Syntax error in header field name");
            return false;
        }

        if (field[0] == ':' && !field.Equals(":bytes", StringComparison.OrdinalIgnoreCase) && !field.Equals(":lines", StringComparison.OrdinalIgnoreCase))
        {
            _channel.WriteLine("503 Unsupported metadata request");
            return true;
        }

        var argument = command.Argument(1);
        var selection = await SelectAsync(argument, cancellationToken).ConfigureAwait(false);
        if (selection is null)
        {
            return true;
        }

        var byId = argument?.StartsWith('<') == true;
        var isXref = field.Equals("Xref", StringComparison.OrdinalIgnoreCase);
        _channel.WriteLine(command.Keyword == "HDR" ? "225 Headers follow" : "221 Header follows");
        await foreach (var page in PagesAsync(selection.FolderId, selection.First, 0, selection.High, cancellationToken).ConfigureAwait(false))
        {
            var xref = isXref ? await XrefsAsync(page, cancellationToken).ConfigureAwait(false) : null;
            foreach (var message in page)
            {
                // The header's octets as the article has them, 8-bit or not (RFC 3977 §8.5.2, as HEAD sends them).
                var value = field.ToLowerInvariant() switch
                {
                    ":bytes" => Encoding.ASCII.GetBytes(message.Size.ToString(CultureInfo.InvariantCulture)),
                    ":lines" => Encoding.ASCII.GetBytes(message.Lines.ToString(CultureInfo.InvariantCulture)),
                    "xref" => Encoding.UTF8.GetBytes(xref!(message)),
                    _ => NewsArticle.RawOctets(NewsArticle.ParseHeaders(message.Headers), field) ?? [],
                };
                if (pattern is not null && !Wildmat.Matches(pattern, NewsArticle.Decode(value)))
                {
                    continue;
                }

                var number = byId ? (command.Keyword == "HDR" ? "0" : message.MessageId ?? "0") : message.Number.ToString(CultureInfo.InvariantCulture);
                WriteDataLine([.. Encoding.UTF8.GetBytes(number + " "), .. value]);
            }
        }

        _channel.WriteLine(".");
        return true;
    }

    private static bool IsHeaderOrMetadataName(string field)
    {
        var name = field.AsSpan(field[0] == ':' ? 1 : 0);
        return !name.IsEmpty && !name.ContainsAnyExceptInRange('!', '~') && !name.Contains(':');
    }

    /// <summary>
    /// The Xref values (RFC 5536 §3.2.14) of <paramref name="messages"/>: this server's Path identity and every
    /// group:number that files the article, so a newsreader marks a cross-post read in each group. Computed here,
    /// never taken from the article (the poster's or a peer's would name other numbers).
    /// </summary>
    private async Task<Func<PublicMessage, string>> XrefsAsync(IReadOnlyList<PublicMessage> messages, CancellationToken cancellationToken)
    {
        var names = (await _context.Store.PublicFolders.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
            .Where(f => f.Newsgroup is not null).ToDictionary(f => f.Id, f => f.Newsgroup!);
        List<(long FolderId, long Number, long OtherFolderId, long OtherNumber)> copies = [];
        if (messages.Count > 0 && messages.All(m => m.FolderId == messages[0].FolderId))
        {
            var crossPosts = await _context.Store.PublicFolders.ListCrossPostCopiesAsync(messages[0].FolderId, messages.Min(m => m.Number), messages.Max(m => m.Number), cancellationToken).ConfigureAwait(false);
            copies.AddRange(crossPosts.Select(c => (messages[0].FolderId, c.Number, c.OtherFolderId, c.OtherNumber)));
        }

        var byPlace = copies.ToLookup(c => (c.FolderId, c.Number));
        return message =>
        {
            var entries = byPlace[(message.FolderId, message.Number)].Select(c => (c.OtherFolderId, c.OtherNumber)).Prepend((message.FolderId, message.Number));
            return _intake.PathIdentity + string.Concat(entries.Where(e => names.ContainsKey(e.Item1)).Select(e => " " + names[e.Item1] + ":" + e.Item2.ToString(CultureInfo.InvariantCulture)));
        };
    }

    private bool TryParseSince(NntpCommand command, int index, out DateTimeOffset since)
    {
        since = default;
        var date = command.Argument(index);
        var time = command.Argument(index + 1);
        var gmt = command.Argument(index + 2);
        return date is not null && time is not null && (gmt is null || gmt.Equals("GMT", StringComparison.OrdinalIgnoreCase)) && command.Arguments.Count <= index + 3
            && NntpSyntax.TryParseDateTime(date, time, _context.Time.GetUtcNow(), out since);
    }

    private async Task<bool> NewNewsAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var wildmat = command.Argument(0);
        if (wildmat is null || !Wildmat.IsValid(wildmat) || !TryParseSince(command, 1, out var since))
        {
            _channel.WriteLine("501 Syntax: NEWNEWS wildmat [yy]yymmdd hhmmss [GMT]");
            return false;
        }

        var visible = await VisibleGroupsAsync(cancellationToken).ConfigureAwait(false);
        if (await RefusedUntilLogonAsync(visible, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        var readable = visible
            .Where(g => Wildmat.Matches(wildmat, g.Folder.Newsgroup!))
            .Select(g => g.Folder.Id)
            .ToHashSet();
        _channel.WriteLine("230 List of new articles follows");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        ReceivedArticle? after = null;
        while (true)
        {
            // A page at a time: NEWNEWS * 19700101 000000 on a large server must not load every article at once.
            var page = await _context.Store.PublicFolders.ListReceivedSinceAsync(since, after, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var message in page.Where(m => readable.Contains(m.FolderId) && seen.Add(m.MessageId)))
            {
                _channel.WriteLine(message.MessageId);
            }

            if (page.Count < PageSize)
            {
                break;
            }

            after = page[^1];
            await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        // Cancels too, so a pull peer carries them out as a push peer would (they are filed in no group).
        var readableNames = visible.Where(g => readable.Contains(g.Folder.Id)).Select(g => g.Folder.Newsgroup!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var control in await _context.Store.PublicFolders.ListControlArticlesSinceAsync(since, cancellationToken).ConfigureAwait(false))
        {
            if (control.Newsgroups.Any(readableNames.Contains) && seen.Add(control.MessageId))
            {
                _channel.WriteLine(control.MessageId);
            }
        }

        _channel.WriteLine(".");
        return true;
    }
}
