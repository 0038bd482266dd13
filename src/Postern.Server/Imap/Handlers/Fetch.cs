using MimeKit;
using MimeKit.Encodings;
using Postern.Protocols.Imap;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Imap.Handlers;

/// <summary>
/// RFC 3501 §6.4.5 FETCH / UID FETCH, BINARY (RFC 3516), CONDSTORE CHANGEDSINCE and QRESYNC VANISHED (RFC 7162), EMAILID and
/// THREADID (RFC 8474), PREVIEW (RFC 8970).
/// </summary>
internal sealed class Fetch(bool uid) : IImapHandler
{
    public async Task HandleAsync(ImapSession session, ImapCommand command, CancellationToken cancellationToken)
    {
        if (!ImapFetchRequest.TryParse(command.GetReader(), out var request, out var error))
        {
            session.BadArguments(command, error);
            return;
        }

        // RFC 7162 §3.2.6: VANISHED only in UID FETCH, and only once QRESYNC is enabled.
        if (request.Vanished && (!uid || !session.QResyncEnabled))
        {
            session.BadArguments(command, "VANISHED needs UID FETCH with QRESYNC enabled");
            return;
        }

        // An item named twice is answered once, as Dovecot does: a client's parser may take a repeated item for a new message.
        var items = request.Items.Distinct().ToList();
        if (uid && !items.Any(i => i.Kind == ImapFetchItemKind.Uid))
        {
            // RFC 3501 §6.4.8: UID FETCH always returns the UID.
            items.Insert(0, new ImapFetchItem(ImapFetchItemKind.Uid));
        }

        if (request.ChangedSince is not null || items.Any(i => i.Kind == ImapFetchItemKind.ModSeq))
        {
            session.EnableCondStoreByCommand();
        }

        var selected = session.Selected!;
        if (!selected.IsValidSequenceSet(request.Set, uid))
        {
            session.BadArguments(command, "Invalid message sequence number");
            return;
        }

        var targets = selected.Resolve(request.Set, uid, session.SavedSearch);
        if (request.ChangedSince is { } since)
        {
            targets = targets.Where(t => (ulong)t.Message.ModSeq > since).ToList();
        }

        // A small FETCH is answered on the socket's event thread (EventThread): the flags of a few thousand messages,
        // or the content of a few small ones.
        var metadataOnly = !items.Exists(NeedsContent);
        await EventThread.ToThreadPoolIf(metadataOnly
            ? targets.Count > EventThread.InlineListLength
            : targets.Count > EventThread.InlineMessageCount || targets.Sum(t => t.Message.Size) > EventThread.InlineMessageBytes);

        var writer = session.Writer;
        if (request.Vanished)
        {
            var expunged = await session.Mail.ListExpungedSinceAsync(selected.Mailbox.Id, (long)request.ChangedSince!.Value, cancellationToken);
            var inSet = expunged.Where(u => request.Set.Contains((uint)u, uint.MaxValue)).Select(u => (uint)u).ToList();
            if (inSet.Count > 0)
            {
                writer.BeginUntagged().Atom("VANISHED").Atom("(EARLIER)").Atom(ImapSequenceSet.Format(inSet)).EndLine();
            }
        }

        // RFC 3501 §6.4.5: fetching a body sets \Seen (not in a read-only mailbox); the new flags go out with the data.
        var seenChanged = new HashSet<long>();
        if (!selected.ReadOnly && items.Any(i => i.SetsSeen))
        {
            var unseen = targets.Where(t => !t.Message.Flags.HasFlag(MessageFlags.Seen)).Select(t => t.Message.Uid).ToList();
            if (unseen.Count > 0)
            {
                StoreFlagsResult? result;
                try
                {
                    result = await session.Mail.StoreFlagsAsync(selected.Mailbox.Id, unseen, FlagOperation.Add, MessageFlags.Seen, [], null, cancellationToken);
                }
                catch (Exception ex) when (StorageFull.Is(ex))
                {
                    // On a full disk mail must still be readable, as with Dovecot: the body goes out, \Seen stays unset.
                    result = null;
                }

                foreach (var updated in result?.Updated ?? [])
                {
                    selected.Update(updated);
                    seenChanged.Add(updated.Uid);
                }

                targets = targets.Select(t => (t.Sequence, selected.Messages[t.Sequence - 1])).ToList();
            }
        }

        if (metadataOnly)
        {
            // Flags, UIDs, sizes and dates only (a client's sync: UID FETCH 1:* (FLAGS)): every item is in the message
            // record, so each line is written straight out. No such item sets \Seen, so no FLAGS need adding.
            var written = 0;
            foreach (var (sequence, message) in targets)
            {
                WriteMetadataLine(session, writer, items, sequence, message);
                if (++written % 256 == 0)
                {
                    await session.FlushIfLargeAsync(cancellationToken);
                }
            }

            await session.CompleteAsync(command, ImapStatus.Ok, "FETCH completed", allowExpunge: uid, cancellationToken: cancellationToken);
            return;
        }

        var expungeIssued = false;

        // ENVELOPE, BODY and BODYSTRUCTURE written before for the same content are written again as they were; a FETCH
        // that asks for nothing else then needs neither the content nor a parse.
        var renderedItems = ImapRenderedItems.For(session.Context.Store);
        var rendered = new byte[]?[items.Count];
        var onlyRenderedContent = items.TrueForAll(i => !NeedsContent(i) || ImapRenderedItems.Keeps(i.Kind));
        foreach (var (sequence, message) in targets)
        {
            var allRendered = true;
            for (var i = 0; i < items.Count; i++)
            {
                rendered[i] = ImapRenderedItems.Keeps(items[i].Kind) ? renderedItems.TryGet(message.BlobId, items[i].Kind, writer.Utf8Enabled) : null;
                allRendered &= rendered[i] is not null || !NeedsContent(items[i]);
            }

            ImapMessageView? view = null;
            if (!(onlyRenderedContent && allRendered))
            {
                // Content is read together with the check that the message is still there: one expunged by another
                // session since this one last synced has no content to give (RFC 2180 §4.1.2: answer NO for it).
                var content = await session.Mail.ReadMessageContentAsync(selected.Mailbox.Id, message.Uid, cancellationToken);
                if (content is null)
                {
                    expungeIssued = true;
                    continue;
                }

                view = ImapMessageView.Parse(content);
            }

            // RFC 3516 §4.3: a part whose encoding is unknown fails the command, found before this message's FETCH
            // begins: stopping inside it could leave "* n FETCH ()", which is not valid syntax (msg-att needs one item).
            if (view is not null && items.Any(i => i.Kind is ImapFetchItemKind.Binary or ImapFetchItemKind.BinarySize && HasUnknownEncoding(view, i.Section!)))
            {
                session.No(command, "Unknown content-transfer-encoding", "UNKNOWN-CTE");
                return;
            }

            // Content that does not decode strictly has no decoded octets to give: NO [PARSE] (RFC 5530), as Dovecot answers.
            if (view is not null && items.Any(i => i.Kind is ImapFetchItemKind.Binary or ImapFetchItemKind.BinarySize && !IsDecodable(view, i.Section!)))
            {
                session.No(command, "Invalid data in MIME part", "PARSE");
                return;
            }

            session.AnnounceKeywords(message.Keywords);
            writer.BeginUntagged().Number((ulong)sequence).Atom("FETCH").BeginList();
            var wroteFlags = false;
            var wroteUid = false;
            var wroteModSeq = false;
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                if (!await WriteItemAsync(session, writer, item, message, view, rendered[i] ?? Render(renderedItems, item.Kind, message, view, writer.Utf8Enabled), cancellationToken))
                {
                    writer.EndList().EndLine();
                    session.No(command, "Unknown content-transfer-encoding", "UNKNOWN-CTE");
                    return;
                }

                wroteFlags |= item.Kind == ImapFetchItemKind.Flags;
                wroteUid |= item.Kind == ImapFetchItemKind.Uid;
                wroteModSeq |= item.Kind == ImapFetchItemKind.ModSeq;
            }

            if (seenChanged.Contains(message.Uid))
            {
                // The implicit \Seen is a flag change: RFC 7162 §3.2.4 wants its FETCH to carry the UID (QRESYNC) and the new
                // MODSEQ (CONDSTORE, §3.1.4), which the client would otherwise never learn.
                if (!wroteFlags)
                {
                    writer.Atom("FLAGS").Flags((ImapSystemFlags)message.Flags, message.Keywords, session.ShowsRecent(message.Uid));
                }

                if (!wroteUid && session.QResyncEnabled)
                {
                    writer.Atom("UID").Number((ulong)message.Uid);
                }

                if (!wroteModSeq && session.CondStoreEnabled)
                {
                    writer.Atom("MODSEQ").BeginList().Number((ulong)message.ModSeq).EndList();
                }
            }

            writer.EndList().EndLine();
            await session.FlushIfLargeAsync(cancellationToken);
        }

        // RFC 3501 §7.4.1: no EXPUNGE during FETCH by sequence number.
        if (expungeIssued)
        {
            // RFC 5530 §3: EXPUNGEISSUED says why some of the messages got no answer.
            await session.CompleteAsync(command, ImapStatus.No, "Some of the requested messages no longer exist", "EXPUNGEISSUED", allowExpunge: uid, cancellationToken: cancellationToken);
            return;
        }

        await session.CompleteAsync(command, ImapStatus.Ok, "FETCH completed", allowExpunge: uid, cancellationToken: cancellationToken);
    }

    private static bool NeedsContent(ImapFetchItem item) => item.Kind is not (ImapFetchItemKind.Flags or ImapFetchItemKind.Uid or ImapFetchItemKind.ModSeq
        or ImapFetchItemKind.InternalDate or ImapFetchItemKind.Rfc822Size or ImapFetchItemKind.EmailId or ImapFetchItemKind.ThreadId or ImapFetchItemKind.SaveDate);

    /// <summary>An item the rendered cache keeps, written from the parsed content and kept; null for any other item.</summary>
    private static byte[]? Render(ImapRenderedItems renderedItems, ImapFetchItemKind kind, MessageRecord message, ImapMessageView? view, bool utf8) =>
        ImapRenderedItems.Keeps(kind)
            ? renderedItems.Render(message.BlobId, kind, utf8, w =>
            {
                if (kind == ImapFetchItemKind.Envelope)
                {
                    ImapFetchFormatter.WriteEnvelope(w, view!.Message);
                }
                else
                {
                    ImapFetchFormatter.WriteBodyStructure(w, view!, view!.Message.Body ?? new TextPart("plain"), kind == ImapFetchItemKind.BodyStructure);
                }
            })
            : null;

    /// <summary>One message's FETCH line of items that need no content (<see cref="NeedsContent"/> is false for each).</summary>
    private static void WriteMetadataLine(ImapSession session, ImapResponseWriter writer, List<ImapFetchItem> items, int sequence, MessageRecord message)
    {
        if (message.Keywords.Count > 0)
        {
            session.AnnounceKeywords(message.Keywords);
        }

        writer.BeginUntagged().Number((ulong)sequence).Atom("FETCH"u8).BeginList();
        foreach (var item in items)
        {
            WriteMetadataItem(session, writer, item, message);
        }

        writer.EndList().EndLine();
    }

    /// <summary>Writes an item that needs no content; false for any other.</summary>
    private static bool WriteMetadataItem(ImapSession session, ImapResponseWriter writer, ImapFetchItem item, MessageRecord message)
    {
        switch (item.Kind)
        {
            case ImapFetchItemKind.Flags:
                writer.Atom("FLAGS"u8).Flags((ImapSystemFlags)message.Flags, message.Keywords, session.ShowsRecent(message.Uid));
                return true;
            case ImapFetchItemKind.Uid:
                writer.Atom("UID"u8).Number((ulong)message.Uid);
                return true;
            case ImapFetchItemKind.InternalDate:
                writer.Atom("INTERNALDATE"u8).DateTime(message.InternalDate);
                return true;
            case ImapFetchItemKind.Rfc822Size:
                writer.Atom("RFC822.SIZE"u8).Number((ulong)message.Size);
                return true;
            case ImapFetchItemKind.ModSeq:
                writer.Atom("MODSEQ"u8).BeginList().Number((ulong)message.ModSeq).EndList();
                return true;
            case ImapFetchItemKind.EmailId:
                writer.Atom("EMAILID"u8).BeginList().Atom(ImapObjectIds.ForEmail(message.BlobId)).EndList();
                return true;
            case ImapFetchItemKind.ThreadId:
                // RFC 8474 §5.2: NIL from a server that does not group messages into threads.
                writer.Atom("THREADID"u8).Nil();
                return true;
            case ImapFetchItemKind.SaveDate:
                // RFC 8514 §3: NIL when the save date is not known.
                if (message.SaveDate is { } saved)
                {
                    writer.Atom("SAVEDATE"u8).DateTime(saved);
                }
                else
                {
                    writer.Atom("SAVEDATE"u8).Nil();
                }

                return true;
            default:
                return false;
        }
    }

    private static async ValueTask<bool> WriteItemAsync(ImapSession session, ImapResponseWriter writer, ImapFetchItem item, MessageRecord message, ImapMessageView? view,
        byte[]? rendered, CancellationToken cancellationToken)
    {
        if (WriteMetadataItem(session, writer, item, message))
        {
            return true;
        }

        switch (item.Kind)
        {
            case ImapFetchItemKind.Preview:
                writer.Atom("PREVIEW").String(ImapPreview.For(view!.Message));
                break;
            case ImapFetchItemKind.Envelope:
                writer.Atom("ENVELOPE").Rendered(rendered!);
                break;
            case ImapFetchItemKind.Body or ImapFetchItemKind.BodyStructure:
                writer.Atom(item.Kind == ImapFetchItemKind.Body ? "BODY" : "BODYSTRUCTURE").Rendered(rendered!);
                break;
            case ImapFetchItemKind.Rfc822:
                await WriteLiteralAsync(session, writer.Atom("RFC822"), view!.Raw, cancellationToken);
                break;
            case ImapFetchItemKind.Rfc822Header:
                writer.Atom("RFC822.HEADER").Literal(view!.GetSection(new ImapSection([], ImapSectionText.Header, [])).GetValueOrDefault().Span);
                break;
            case ImapFetchItemKind.Rfc822Text:
                writer.Atom("RFC822.TEXT").Literal(view!.GetSection(new ImapSection([], ImapSectionText.Text, [])).GetValueOrDefault().Span);
                break;
            case ImapFetchItemKind.BodySection:
                {
                    var data = view!.GetSection(item.Section!) ?? ReadOnlyMemory<byte>.Empty;
                    await WriteLiteralAsync(session, writer.Atom(item.ResponseName), Partial(data, item), cancellationToken);
                    break;
                }

            case ImapFetchItemKind.Binary or ImapFetchItemKind.BinarySize:
                {
                    var decoded = Decode(view!, item.Section!);
                    if (decoded is null)
                    {
                        return false;
                    }

                    if (item.Kind == ImapFetchItemKind.BinarySize)
                    {
                        writer.Atom(item.ResponseName).Number((ulong)decoded.Length);
                    }
                    else
                    {
                        var data = Partial(decoded, item);

                        // RFC 3516 §4.3: literal8 when the decoded content holds NUL.
                        writer.Atom(item.ResponseName).Literal(data.Span, binary: data.Span.Contains((byte)0));
                    }

                    break;
                }
        }

        return true;
    }

    /// <summary>A literal in chunks with a flush per chunk, so a slow reader holds one chunk, not one message.</summary>
    private static async ValueTask WriteLiteralAsync(ImapSession session, ImapResponseWriter writer, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        const int Chunk = 64 * 1024;
        if (data.Length <= Chunk)
        {
            writer.Literal(data.Span);
            return;
        }

        writer.LiteralHeader(data.Length);
        for (var offset = 0; offset < data.Length; offset += Chunk)
        {
            writer.LiteralOctets(data.Span.Slice(offset, Math.Min(Chunk, data.Length - offset)));
            await session.FlushAsync(cancellationToken);
        }
    }

    private static ReadOnlyMemory<byte> Partial(ReadOnlyMemory<byte> data, ImapFetchItem item)
    {
        if (item.PartialOffset is not { } offset)
        {
            return data;
        }

        // RFC 3501 §6.4.5: an origin past the end gives the empty string.
        if (offset >= (ulong)data.Length)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var length = (int)Math.Min(item.PartialLength ?? ulong.MaxValue, (ulong)data.Length - offset);
        return data.Slice((int)offset, length);
    }

    /// <summary>
    /// Whether the part declares an encoding RFC 2045 does not define: one MimeKit does not know reads as Default, which
    /// only the identity encodings may; x-uuencode MimeKit knows, but as Dovecot answers, RFC 3516 §4.3's UNKNOWN-CTE
    /// lets the client fetch BODY[] and decode such a part itself.
    /// </summary>
    private static bool HasUnknownEncoding(ImapMessageView view, ImapSection section)
    {
        var entity = section.Part.Count == 0 ? view.Message.Body : view.Resolve(section.Part);
        var declared = (entity as MimePart)?.Headers[HeaderId.ContentTransferEncoding]?.Trim().ToLowerInvariant();
        return entity is MimePart { ContentTransferEncoding: ContentEncoding.UUEncode }
            || (entity is MimePart { ContentTransferEncoding: ContentEncoding.Default } && !string.IsNullOrEmpty(declared) && declared is not ("7bit" or "8bit" or "binary"));
    }

    /// <summary>Whether every part BINARY of <paramref name="section"/> decodes holds content that decodes strictly.</summary>
    private static bool IsDecodable(ImapMessageView view, ImapSection section) =>
        section.Part.Count == 0
            ? view.Message.BodyParts.OfType<MimePart>().All(ImapEncodedContent.IsDecodable)
            : view.Resolve(section.Part) is not MimePart part || ImapEncodedContent.IsDecodable(part);

    /// <summary>The decoded content of a leaf part (RFC 3516 BINARY), or null for an encoding MimeKit cannot decode.</summary>
    private static byte[]? Decode(ImapMessageView view, ImapSection section)
    {
        if (section.Part.Count == 0)
        {
            return DecodeWholeMessage(view);
        }

        var entity = view.Resolve(section.Part);
        if (entity is not MimePart part)
        {
            // Multipart or message parts have nothing to decode: their raw octets are the answer.
            return view.GetSection(section)?.ToArray() ?? [];
        }

        if (HasUnknownEncoding(view, section))
        {
            return null;
        }

        if (part.ContentTransferEncoding == ContentEncoding.QuotedPrintable && part.Content is { } content)
        {
            using var encoded = new MemoryStream();
            content.WriteTo(encoded);
            var decoder = new QuotedPrintableDecoder();
            var input = WithoutTrailingWhitespace(encoded.GetBuffer().AsSpan(0, (int)encoded.Length));
            var buffer = new byte[decoder.EstimateOutputLength(input.Length)];
            var length = decoder.Decode(input, 0, input.Length, buffer);
            return buffer[..length];
        }

        using var output = new MemoryStream();
        part.Content?.DecodeTo(output);
        return output.ToArray();
    }

    /// <summary>
    /// BINARY[]: the whole message, header included, as BODY[] is (RFC 9051 §6.4.5), with each part in base64 or
    /// quoted-printable decoded and relabelled "binary" (as Dovecot answers). Attached messages keep their own encoding,
    /// as BINARY of a message/rfc822 part does. A message with nothing encoded is its stored octets.
    /// </summary>
    private static byte[] DecodeWholeMessage(ImapMessageView view)
    {
        static bool IsEncoded(MimePart part) => part.ContentTransferEncoding is ContentEncoding.Base64 or ContentEncoding.QuotedPrintable;

        if (!view.Message.BodyParts.OfType<MimePart>().Any(IsEncoded))
        {
            return view.Raw;
        }

        // A copy: the view's tree and offsets serve the other items of the same FETCH.
        using var input = new MemoryStream(view.Raw, writable: false);
        var copy = MimeMessage.Load(input);
        foreach (var part in copy.BodyParts.OfType<MimePart>().Where(IsEncoded))
        {
            part.ContentTransferEncoding = ContentEncoding.Binary;
        }

        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        copy.WriteTo(options, output);
        return output.ToArray();
    }

    /// <summary>
    /// RFC 2045 §6.7 rule 3: trailing white space on a quoted-printable line was added in transport and is deleted
    /// before decoding, so "=" followed by blanks is still a soft line break.
    /// </summary>
    private static byte[] WithoutTrailingWhitespace(ReadOnlySpan<byte> encoded)
    {
        var result = new byte[encoded.Length];
        var length = 0;
        while (!encoded.IsEmpty)
        {
            var end = encoded.IndexOf((byte)'\n');
            var line = end < 0 ? encoded : encoded[..end];
            var hasCr = line.Length > 0 && line[^1] == (byte)'\r';
            var text = (hasCr ? line[..^1] : line).TrimEnd(" \t"u8);
            text.CopyTo(result.AsSpan(length));
            length += text.Length;
            if (end < 0)
            {
                break;
            }

            if (hasCr)
            {
                result[length++] = (byte)'\r';
            }

            result[length++] = (byte)'\n';
            encoded = encoded[(end + 1)..];
        }

        return result[..length];
    }
}
