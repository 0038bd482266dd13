using System.Text;
using MimeKit;
using Postern.Protocols.Imap;

namespace Postern.Server.Imap;

/// <summary>
/// One stored message as IMAP sees it: the raw octets, the MimeKit tree, and where each entity lies in the octets
/// (taken from the MimeKit parser's offset events), so sections are served byte-exact, never re-serialised.
/// </summary>
internal sealed class ImapMessageView
{
    private readonly Dictionary<MimeEntity, EntityOffsets> _entities = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<MimeMessage, EntityOffsets> _messages = new(ReferenceEqualityComparer.Instance);

    private MimeMessage? _message;

    private ImapMessageView(byte[] raw) => Raw = raw;

    public byte[] Raw { get; }

    /// <summary>The MimeKit tree, parsed on first use: BODY[], RFC822 and partials of them are served from the raw octets alone.</summary>
    public MimeMessage Message => _message ??= ParseMessage();

    public static ImapMessageView Parse(byte[] raw) => new(raw);

    private MimeMessage ParseMessage()
    {
        try
        {
            return ParseMessage(Raw, 0);
        }
        catch (FormatException)
        {
            // MimeKit refuses a message whose first line is no header field ("abc", or mail that begins with its body),
            // which APPEND may store like any octets. Such a message is read as an empty header and all body: parsed
            // behind a blank line, with the offsets moved back by its two octets.
            _entities.Clear();
            _messages.Clear();
            return ParseMessage([(byte)'\r', (byte)'\n', .. Raw], 2);
        }
    }

    private MimeMessage ParseMessage(byte[] octets, long shift)
    {
        using var stream = new MemoryStream(octets, writable: false);
        var parser = new MimeParser(stream, MimeFormat.Entity);
        var begins = new Dictionary<object, long>(ReferenceEqualityComparer.Instance);
        long At(long offset) => Math.Max(0, offset - shift);
        parser.MimeEntityBegin += (_, e) => begins[e.Entity] = e.BeginOffset;
        parser.MimeEntityEnd += (_, e) => _entities[e.Entity] = new EntityOffsets(At(begins.GetValueOrDefault(e.Entity)), At(e.HeadersEndOffset), At(e.EndOffset), e.Lines);
        parser.MimeMessageBegin += (_, e) => begins[e.Message] = e.BeginOffset;
        parser.MimeMessageEnd += (_, e) => _messages[e.Message] = new EntityOffsets(At(begins.GetValueOrDefault(e.Message)), At(e.HeadersEndOffset), At(e.EndOffset), 0);
        return parser.ParseMessage();
    }

    // An entity comes from Message, so the parse (which records the offsets) has already run.
    public EntityOffsets OffsetsOf(MimeEntity entity) => _entities.TryGetValue(entity, out var offsets) ? offsets : default;

    public EntityOffsets OffsetsOf(MimeMessage message) => _messages.TryGetValue(message, out var offsets) ? offsets : default;

    /// <summary>
    /// The octets of a body section (RFC 3501 §6.4.5), or null when the section does not exist.
    /// </summary>
    public ReadOnlyMemory<byte>? GetSection(ImapSection section)
    {
        if (section.Part.Count == 0)
        {
            // The whole message is the stored octets (the top-level message spans the stream): no parse needed. Nor for
            // the top-level header fields (what a client lists mailboxes with): the header block is read on its own.
            return section.Text switch
            {
                ImapSectionText.None => Raw,
                ImapSectionText.HeaderFields or ImapSectionText.HeaderFieldsNot when _message is null =>
                    HeaderFields(Raw, section.Fields, include: section.Text == ImapSectionText.HeaderFields),
                _ => MessageSection(Message, section),
            };
        }

        var entity = Resolve(section.Part);
        if (entity is null)
        {
            return null;
        }

        var offsets = OffsetsOf(entity);
        switch (section.Text)
        {
            case ImapSectionText.None:
                return Slice(offsets.HeadersEnd, offsets.End);
            case ImapSectionText.Mime:
                return Slice(offsets.Begin, offsets.HeadersEnd);
            default:
                // HEADER, TEXT and HEADER.FIELDS after a part number apply to an encapsulated message only.
                return entity is MessagePart { Message: { } inner } ? MessageSection(inner, section) : null;
        }
    }

    /// <summary>The entity a part path names: multipart children by number; "1" of a single-part body is the body.</summary>
    public MimeEntity? Resolve(IReadOnlyList<uint> path)
    {
        var entity = Message.Body;
        for (var i = 0; i < path.Count; i++)
        {
            if (entity is null)
            {
                return null;
            }

            if (i > 0)
            {
                if (entity is MessagePart { Message: { } inner })
                {
                    entity = inner.Body;
                }
                else if (entity is not Multipart)
                {
                    return null;
                }
            }

            var n = path[i];
            if (entity is Multipart multipart)
            {
                if (n > multipart.Count)
                {
                    return null;
                }

                entity = multipart[(int)n - 1];
            }
            else if (n != 1)
            {
                return null;
            }
        }

        return entity;
    }

    private ReadOnlyMemory<byte>? MessageSection(MimeMessage message, ImapSection section)
    {
        var offsets = OffsetsOf(message);
        return section.Text switch
        {
            ImapSectionText.None => Slice(offsets.Begin, offsets.End),
            ImapSectionText.Header => Slice(offsets.Begin, offsets.HeadersEnd),
            ImapSectionText.Text => Slice(offsets.HeadersEnd, offsets.End),
            ImapSectionText.HeaderFields => HeaderFields(Slice(offsets.Begin, offsets.HeadersEnd), section.Fields, include: true),
            ImapSectionText.HeaderFieldsNot => HeaderFields(Slice(offsets.Begin, offsets.HeadersEnd), section.Fields, include: false),
            _ => null,
        };
    }

    private static ReadOnlyMemory<byte> HeaderFields(ReadOnlyMemory<byte> headerBlock, IReadOnlyList<string> fields, bool include)
    {
        // RFC 3501 §6.4.5: the matching header lines as sent, followed by the blank line. The header block is read again
        // because MimeKit files the Content-* fields of a message under its body, not under the message.
        var wanted = new HashSet<string>(fields, StringComparer.OrdinalIgnoreCase);
        HeaderList headers;
        var block = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(headerBlock, out var segment) ? segment : new ArraySegment<byte>(headerBlock.ToArray());
        using (var input = new MemoryStream(block.Array!, block.Offset, block.Count, writable: false))
        {
            try
            {
                headers = HeaderList.Load(input);
            }
            catch (FormatException)
            {
                // A block MimeKit cannot read on its own (it took the message's first lines for a header regardless):
                // no field matches, and the answer is the blank line alone.
                return "\r\n"u8.ToArray();
            }
        }

        using var output = new MemoryStream();
        foreach (var header in headers)
        {
            if (wanted.Contains(header.Field) != include)
            {
                continue;
            }

            output.Write(Encoding.ASCII.GetBytes(header.Field));
            output.WriteByte((byte)':');
            output.Write(header.RawValue);
        }

        output.Write("\r\n"u8);
        return output.ToArray();
    }

    private ReadOnlyMemory<byte> Slice(long start, long end)
    {
        start = Math.Clamp(start, 0, Raw.Length);
        end = Math.Clamp(end, start, Raw.Length);
        return Raw.AsMemory((int)start, (int)(end - start));
    }
}

/// <summary>Where an entity lies in the raw message: its first octet, the first octet of its content, the end, and its content lines.</summary>
internal readonly record struct EntityOffsets(long Begin, long HeadersEnd, long End, int Lines)
{
    public long ContentLength => Math.Max(0, End - HeadersEnd);
}
