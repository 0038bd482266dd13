using System.Globalization;
using Postern.Protocols.Nntp;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>GROUP, LISTGROUP, LIST and NEWGROUPS (RFC 3977 §6.1, §7.3, §7.6; RFC 6048): the newsgroups this client may see.</summary>
internal sealed partial class NntpSession
{
    // A news peer known by its address reads as anonymous does: address trust is for transit only.
    private ValueTask<PublicFolderRights> RightsAsync(PublicFolder folder, CancellationToken cancellationToken) =>
        ValueTask.FromResult(folder.Newsgroup is null ? PublicFolderRights.None : folder.RightsOf(_account?.Address));

    private async Task<List<(PublicFolder Folder, PublicFolderRights Rights)>> VisibleGroupsAsync(CancellationToken cancellationToken)
    {
        var groups = new List<(PublicFolder, PublicFolderRights)>();
        foreach (var folder in await _context.Store.PublicFolders.ListFoldersAsync(cancellationToken).ConfigureAwait(false))
        {
            var rights = await RightsAsync(folder, cancellationToken).ConfigureAwait(false);
            if (rights.HasFlag(PublicFolderRights.Read))
            {
                groups.Add((folder, rights));
            }
        }

        groups.Sort((a, b) => string.CompareOrdinal(a.Item1.Newsgroup, b.Item1.Newsgroup));
        return groups;
    }

    /// <summary>
    /// Writes 480 (483 where credentials need TLS first) when this client may read no newsgroup until it logs on
    /// but an account could: slrn and tin send AUTHINFO on 480 (RFC 4643 §2.1), while an empty list would tell
    /// them the server carries no groups. INN's nnrpd answers the same way.
    /// </summary>
    private async Task<bool> RefusedUntilLogonAsync(List<(PublicFolder Folder, PublicFolderRights Rights)> visible, CancellationToken cancellationToken)
    {
        if (IsAuthenticated || visible.Count > 0)
        {
            return false;
        }

        var folders = await _context.Store.PublicFolders.ListFoldersAsync(cancellationToken).ConfigureAwait(false);
        if (!folders.Any(f => f.Newsgroup is not null && f.RightsOf(AnyAccount).HasFlag(PublicFolderRights.Read)))
        {
            return false;
        }

        _channel.WriteLine(Authenticator.MayAuthenticate(_connection) ? "480 Authentication required" : "483 Encryption required, use STARTTLS first");
        return true;
    }

    /// <summary>A readable newsgroup by name, or null after writing 411 (or 480 when logging on could help).</summary>
    private async Task<PublicFolder?> OpenGroupAsync(string name, CancellationToken cancellationToken)
    {
        var folder = PublicFolderNames.IsValidNewsgroup(name) ? await _context.Store.PublicFolders.FindNewsgroupAsync(name, cancellationToken).ConfigureAwait(false) : null;
        if (folder is not null && (await RightsAsync(folder, cancellationToken).ConfigureAwait(false)).HasFlag(PublicFolderRights.Read))
        {
            return folder;
        }

        if (folder is not null && !IsAuthenticated && folder.RightsOf(AnyAccount).HasFlag(PublicFolderRights.Read))
        {
            _channel.WriteLine("480 Authentication required for this newsgroup");
            return null;
        }

        _channel.WriteLine("411 No such newsgroup");
        return null;
    }

    private async Task<bool> GroupAsync(NntpCommand command, bool listGroup, CancellationToken cancellationToken)
    {
        var name = command.Argument(0);
        if (name is null && !listGroup)
        {
            _channel.WriteLine("501 Syntax: GROUP newsgroup");
            return false;
        }

        PublicFolder? folder;
        if (name is null)
        {
            folder = _group;
            if (folder is null)
            {
                _channel.WriteLine("412 No newsgroup selected");
                return true;
            }
        }
        else
        {
            folder = await OpenGroupAsync(name, cancellationToken).ConfigureAwait(false);
            if (folder is null)
            {
                return true;
            }
        }

        long low = 1, high = long.MaxValue;
        if (listGroup && command.Argument(1) is { } range && !NntpSyntax.TryParseRange(range, out low, out high))
        {
            _channel.WriteLine("501 Invalid range");
            return false;
        }

        var summary = await _context.Store.PublicFolders.GetSummaryAsync(folder.Id, cancellationToken).ConfigureAwait(false);
        _group = folder;

        // RFC 3977 §6.1.1.2: the current article becomes the first one (none if the group is empty).
        _current = summary.Count > 0 ? summary.Low : null;
        _channel.WriteLine($"211 {summary.Count} {summary.Low} {summary.High} {folder.Newsgroup}{(listGroup ? " list follows" : "")}");
        if (listGroup)
        {
            await foreach (var page in PagesAsync(folder.Id, [], low, high, cancellationToken).ConfigureAwait(false))
            {
                foreach (var message in page)
                {
                    _channel.WriteLine(message.Number.ToString(CultureInfo.InvariantCulture));
                }
            }

            _channel.WriteLine(".");
        }

        return true;
    }

    private async Task<bool> ListAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var keyword = command.Argument(0)?.ToUpperInvariant() ?? "ACTIVE";
        var wildmat = command.Argument(1);
        if (wildmat is not null && !Wildmat.IsValid(wildmat))
        {
            _channel.WriteLine("501 Invalid wildmat");
            return false;
        }

        // RFC 3977 §8.4.1, §7.6.5 and §8.6.1, RFC 6048 §2.5: OVERVIEW.FMT, DISTRIB.PATS and MOTD take no argument;
        // HEADERS takes only MSGID or RANGE. Anything else is a syntax error, not a request to ignore.
        if (wildmat is not null && (keyword is "OVERVIEW.FMT" or "DISTRIB.PATS" or "MOTD"
            || (keyword == "HEADERS" && wildmat.ToUpperInvariant() is not ("MSGID" or "RANGE"))))
        {
            _channel.WriteLine($"501 Syntax error in LIST {keyword}");
            return false;
        }

        switch (keyword)
        {
            case "ACTIVE":
            case "ACTIVE.TIMES":
            case "COUNTS":
            case "MODERATORS":
            case "NEWSGROUPS":
            case "SUBSCRIPTIONS":
                var visible = await VisibleGroupsAsync(cancellationToken).ConfigureAwait(false);
                if (await RefusedUntilLogonAsync(visible, cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }

                var groups = visible.Where(g => wildmat is null || Wildmat.Matches(wildmat, g.Folder.Newsgroup!)).ToList();
                _channel.WriteLine(keyword switch
                {
                    "ACTIVE" => "215 List of newsgroups follows",
                    "ACTIVE.TIMES" => "215 Information about creation follows",
                    "COUNTS" => "215 List of newsgroups follows",
                    "MODERATORS" => "215 List of submission address formats follows",
                    "SUBSCRIPTIONS" => "215 List of recommended newsgroups follows",
                    _ => "215 Descriptions follow",
                });
                foreach (var (folder, rights) in groups)
                {
                    switch (keyword)
                    {
                        case "ACTIVE":
                            var summary = await _context.Store.PublicFolders.GetSummaryAsync(folder.Id, cancellationToken).ConfigureAwait(false);
                            _channel.WriteLine($"{folder.Newsgroup} {summary.High} {summary.Low} {PostingStatus(folder, rights)}");
                            break;
                        case "COUNTS":
                            // RFC 6048 §2.2: as ACTIVE, with the article count before the status.
                            var counts = await _context.Store.PublicFolders.GetSummaryAsync(folder.Id, cancellationToken).ConfigureAwait(false);
                            _channel.WriteLine($"{folder.Newsgroup} {counts.High} {counts.Low} {counts.Count} {PostingStatus(folder, rights)}");
                            break;
                        case "MODERATORS":
                            // RFC 6048 §2.4: newsgroup pattern ":" submission address; a '%' in an address is doubled.
                            if (folder.Moderated && !string.IsNullOrEmpty(folder.Moderator))
                            {
                                _channel.WriteLine($"{folder.Newsgroup}:{folder.Moderator.Replace("%", "%%", StringComparison.Ordinal)}");
                            }

                            break;
                        case "SUBSCRIPTIONS":
                            // RFC 6048 §2.6: the groups a new reader starts with (tin subscribes them on first use).
                            _channel.WriteLine(folder.Newsgroup!);
                            break;
                        case "ACTIVE.TIMES":
                            _channel.WriteLine($"{folder.Newsgroup} {folder.Created.ToUnixTimeSeconds()} {_intake.PathIdentity}");
                            break;
                        default:
                            _channel.WriteLine($"{folder.Newsgroup}\t{OneLine(folder.Description ?? folder.Path)}");
                            break;
                    }
                }

                _channel.WriteLine(".");
                return true;
            case "OVERVIEW.FMT":
                // RFC 3977 §8.4.
                _channel.WriteLine("215 Order of fields in overview database");
                foreach (var field in s_overviewFields)
                {
                    _channel.WriteLine(field + ":");
                }

                // RFC 3977 §8.4.2 allows "Bytes:" and "Lines:" for the metadata items, for existing clients; INN
                // answers so, and slrn turns XOVER off on ":bytes".
                _channel.WriteLine("Bytes:");
                _channel.WriteLine("Lines:");
                _channel.WriteLine("Xref:full");
                _channel.WriteLine(".");
                return true;
            case "HEADERS":
                // RFC 3977 §8.6: ":" means any header can be asked for.
                _channel.WriteLine("215 Field list follows");
                _channel.WriteLine(":");
                _channel.WriteLine(":bytes");
                _channel.WriteLine(":lines");
                _channel.WriteLine(".");
                return true;
            case "DISTRIB.PATS":
            case "DISTRIBUTIONS":
                // Postern defines no distributions (RFC 3977 §7.6.5, RFC 6048 §2.3): an empty list.
                _channel.WriteLine(keyword == "DISTRIB.PATS" ? "215 Default distributions follow" : "215 List of distributions follows");
                _channel.WriteLine(".");
                return true;
            case "MOTD" when Motd is null:
                _channel.WriteLine("503 No message of the day is set");
                return true;
            case "MOTD":
                // RFC 6048 §2.5: free text, dot-stuffed like any block.
                _channel.WriteLine("215 Message of the day follows");
                foreach (var line in Motd.Split('\n'))
                {
                    WriteDataLine(line.TrimEnd('\r'));
                }

                _channel.WriteLine(".");
                return true;
            default:
                _channel.WriteLine("501 Unknown LIST keyword");
                return false;
        }
    }

    private static char PostingStatus(PublicFolder folder, PublicFolderRights rights) =>
        folder.Moderated ? 'm' : rights.HasFlag(PublicFolderRights.Post) ? 'y' : 'n';

    private async Task<bool> NewGroupsAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        if (!TryParseSince(command, 0, out var since))
        {
            _channel.WriteLine("501 Syntax: NEWGROUPS [yy]yymmdd hhmmss [GMT]");
            return false;
        }

        var groups = await VisibleGroupsAsync(cancellationToken).ConfigureAwait(false);
        if (await RefusedUntilLogonAsync(groups, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        _channel.WriteLine("231 List of new newsgroups follows");
        foreach (var (folder, rights) in groups.Where(g => g.Folder.Created >= since))
        {
            var summary = await _context.Store.PublicFolders.GetSummaryAsync(folder.Id, cancellationToken).ConfigureAwait(false);
            _channel.WriteLine($"{folder.Newsgroup} {summary.High} {summary.Low} {PostingStatus(folder, rights)}");
        }

        _channel.WriteLine(".");
        return true;
    }
}
