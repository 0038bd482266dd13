using System.Buffers;
using System.Text;
using Postern.Protocols.Imap;
using Postern.Server.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapMessageViewTests
{
    private const string Nested =
        "From: \"Bob Ex\" <bob@example.test>\r\n" +
        "To: team: ann@example.test, =?UTF-8?B?SsO2cmc=?= <jo@example.test>;\r\n" +
        "Subject: Report\r\n" +
        "Message-ID: <m1@example.test>\r\n" +
        "Content-Type: multipart/mixed; boundary=\"XX\"\r\n" +
        "\r\n" +
        "preamble\r\n" +
        "--XX\r\n" +
        "Content-Type: text/plain; charset=us-ascii\r\n" +
        "\r\n" +
        "hello\r\n" +
        "world\r\n" +
        "--XX\r\n" +
        "Content-Type: message/rfc822\r\n" +
        "\r\n" +
        "Subject: inner\r\n" +
        "Content-Type: multipart/alternative; boundary=YY\r\n" +
        "\r\n" +
        "--YY\r\n" +
        "Content-Type: text/plain\r\n" +
        "\r\n" +
        "inner text\r\n" +
        "--YY\r\n" +
        "Content-Type: text/html\r\n" +
        "\r\n" +
        "<p>inner</p>\r\n" +
        "--YY--\r\n" +
        "--XX--\r\n";

    private static readonly ImapMessageView View = ImapMessageView.Parse(Encoding.ASCII.GetBytes(Nested));

    private static string? Section(string spec)
    {
        var command = ImapFeeding.Single($"f FETCH 1 BODY[{spec}]\r\n");
        Assert.True(ImapFetchRequest.TryParse(command.GetReader(), out var request, out var error), error);
        var data = View.GetSection(request.Items[0].Section!);
        return data is null ? null : Encoding.ASCII.GetString(data.Value.Span);
    }

    [Fact]
    public void Whole_header_and_text()
    {
        Assert.Equal(Nested, Section(""));
        Assert.Equal(Nested[..(Nested.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)], Section("HEADER"));
        Assert.StartsWith("preamble\r\n--XX", Section("TEXT"), StringComparison.Ordinal);
    }

    [Fact]
    public void Parts_by_number()
    {
        Assert.Equal("hello\r\nworld", Section("1"));
        Assert.Equal("Content-Type: text/plain; charset=us-ascii\r\n\r\n", Section("1.MIME"));
        Assert.StartsWith("Subject: inner\r\n", Section("2"), StringComparison.Ordinal);
        Assert.Equal("Subject: inner\r\nContent-Type: multipart/alternative; boundary=YY\r\n\r\n", Section("2.HEADER"));
        Assert.StartsWith("--YY\r\n", Section("2.TEXT"), StringComparison.Ordinal);
        Assert.Equal("inner text", Section("2.1"));
        Assert.Equal("<p>inner</p>", Section("2.2"));
        Assert.Equal("Content-Type: text/html\r\n\r\n", Section("2.2.MIME"));
    }

    [Fact]
    public void Header_fields_keep_the_original_lines()
    {
        Assert.Equal("Subject: Report\r\nMessage-ID: <m1@example.test>\r\n\r\n", Section("HEADER.FIELDS (message-id SUBJECT)"));
        Assert.DoesNotContain("Subject", Section("HEADER.FIELDS.NOT (SUBJECT)"), StringComparison.Ordinal);
        Assert.Equal("Subject: inner\r\n\r\n", Section("2.HEADER.FIELDS (SUBJECT)"));
    }

    [Theory]
    [InlineData(Nested)]
    [InlineData("Subject: folded\r\n  line\r\nFrom: a@b.test\r\n\r\nbody\r\n")]
    [InlineData("Subject: no body\r\nFrom: a@b.test\r\n")]
    [InlineData("From In-Reply-To: <a>\r\n\r\nbody\r\n")]
    [InlineData("no header here\r\n\r\nbody")]
    public void Top_level_header_fields_read_before_the_message_is_parsed_are_those_read_after(string raw)
    {
        // The top-level fields are read from the header block alone, without the parse of the whole message.
        ImapSection[] sections = [new([], ImapSectionText.HeaderFields, ["SUBJECT", "FROM"]), new([], ImapSectionText.HeaderFieldsNot, ["SUBJECT"])];
        var unparsed = sections.Select(s => Encoding.ASCII.GetString(ImapMessageView.Parse(Encoding.ASCII.GetBytes(raw)).GetSection(s)!.Value.Span)).ToList();
        var view = ImapMessageView.Parse(Encoding.ASCII.GetBytes(raw));
        _ = view.Message;
        Assert.Equal(sections.Select(s => Encoding.ASCII.GetString(view.GetSection(s)!.Value.Span)), unparsed);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("1.1")]
    [InlineData("1.HEADER")]
    [InlineData("2.3")]
    public void Missing_sections_are_null(string spec) => Assert.Null(Section(spec));

    [Fact]
    public void Single_part_body_is_part_one()
    {
        var view = ImapMessageView.Parse("Subject: s\r\n\r\nonly\r\n"u8.ToArray());
        Assert.Equal("only\r\n", Encoding.ASCII.GetString(view.GetSection(new ImapSection([1], ImapSectionText.None, []))!.Value.Span));
    }

    [Theory]
    [InlineData("abc", "abc", 1)]
    [InlineData("no header here\r\n\r\nbody", "no header here\r\n\r\nbody", 3)]
    [InlineData(":\r\nx", ":\r\nx", 2)]
    public void A_message_that_begins_with_no_header_is_all_body(string raw, string text, int lines)
    {
        // MimeKit refuses such a message; APPEND stores it all the same, so FETCH must still answer.
        var view = ImapMessageView.Parse(Encoding.ASCII.GetBytes(raw));
        Assert.Equal(string.Empty, Encoding.ASCII.GetString(view.GetSection(new ImapSection([], ImapSectionText.Header, []))!.Value.Span));
        Assert.Equal(text, Encoding.ASCII.GetString(view.GetSection(new ImapSection([], ImapSectionText.Text, []))!.Value.Span));
        Assert.Equal(text, Encoding.ASCII.GetString(view.GetSection(new ImapSection([1], ImapSectionText.None, []))!.Value.Span));
        Assert.Equal(raw, Encoding.ASCII.GetString(view.GetSection(ImapSection.Whole)!.Value.Span));

        var buffer = new ArrayBufferWriter<byte>();
        ImapFetchFormatter.WriteBodyStructure(new ImapResponseWriter(buffer), view, view.Message.Body!, extended: false);
        Assert.Equal($"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" {text.Length} {lines})", Encoding.ASCII.GetString(buffer.WrittenSpan));
        buffer.Clear();
        ImapFetchFormatter.WriteEnvelope(new ImapResponseWriter(buffer), view.Message);
        Assert.Equal("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", Encoding.ASCII.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Header_fields_of_a_header_block_mimekit_reads_only_as_part_of_the_message_are_none()
    {
        // Found by fuzzing: the message parses, its header block alone does not; FETCH dropped the connection.
        var view = ImapMessageView.Parse("From In-Reply-To: <a>\r\n\r\nbody\r\n"u8.ToArray());
        var fields = view.GetSection(new ImapSection([], ImapSectionText.HeaderFields, ["SUBJECT", "FROM"]));
        Assert.Equal("\r\n", Encoding.ASCII.GetString(fields!.Value.Span));
        Assert.Equal("\r\n", Encoding.ASCII.GetString(view.GetSection(new ImapSection([], ImapSectionText.HeaderFieldsNot, ["SUBJECT"]))!.Value.Span));
    }

    [Fact]
    public void Bodystructure_follows_rfc_3501()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ImapResponseWriter(buffer);
        ImapFetchFormatter.WriteBodyStructure(writer, View, View.Message.Body!, extended: false);
        var text = Encoding.ASCII.GetString(buffer.WrittenSpan);
        Assert.StartsWith("((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 12 2)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" ", text, StringComparison.Ordinal);
        Assert.EndsWith(" \"MIXED\")", text, StringComparison.Ordinal);
        Assert.Contains("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1)(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 12 1) \"ALTERNATIVE\")", text, StringComparison.Ordinal);

        // Balanced parentheses, and the multipart's parts adjoin (body-type-mpart = 1*body SP media-subtype).
        Assert.Equal(text.Count(c => c == '('), text.Count(c => c == ')'));
        Assert.Contains(" 12 2)(\"MESSAGE\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Bodystructure_extension_data()
    {
        var view = ImapMessageView.Parse(Encoding.ASCII.GetBytes(
            "Content-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Language: en, de\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"));
        var buffer = new ArrayBufferWriter<byte>();
        ImapFetchFormatter.WriteBodyStructure(new ImapResponseWriter(buffer), view, view.Message.Body!, extended: true);
        Assert.Equal("(\"APPLICATION\" \"PDF\" (\"NAME\" \"a.pdf\") NIL NIL \"BASE64\" 6 NIL (\"ATTACHMENT\" (\"FILENAME\" \"a.pdf\")) (\"en\" \"de\") NIL)",
            Encoding.ASCII.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Envelope_with_groups_and_encoded_names()
    {
        var buffer = new ArrayBufferWriter<byte>();
        ImapFetchFormatter.WriteEnvelope(new ImapResponseWriter(buffer), View.Message);
        var text = Encoding.ASCII.GetString(buffer.WrittenSpan);
        Assert.Equal(
            "(NIL \"Report\" ((\"Bob Ex\" NIL \"bob\" \"example.test\")) ((\"Bob Ex\" NIL \"bob\" \"example.test\")) ((\"Bob Ex\" NIL \"bob\" \"example.test\")) " +
            "((NIL NIL \"team\" NIL)(NIL NIL \"ann\" \"example.test\")(\"=?UTF-8?B?SsO2cmc=?=\" NIL \"jo\" \"example.test\")(NIL NIL NIL NIL)) NIL NIL NIL \"<m1@example.test>\")",
            text);
    }

    [Fact]
    public void Envelope_gives_encoded_words_as_the_header_wrote_them()
    {
        // RFC 3501 §7.4.2: addr-name and env-subject are the header's text; Dovecot sends encoded-words as stored, even
        // one in an unknown charset, and never re-encodes them.
        var view = ImapMessageView.Parse(Encoding.ASCII.GetBytes(
            "From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@x.dk>\r\n" +
            "To: =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>, =?bogus?Q?abc?= <a@b.test>, \"Doe, =?x?q?J?=\" <j@d.test>\r\n" +
            "Cc: list =?UTF-8?Q?=C3=A9?=: m@l.test;\r\n" +
            "Subject: =?UTF-8?Q?d=C3=A9j=C3=A0?= vu\r\n\r\nbody\r\n"));
        foreach (var utf8 in new[] { false, true })
        {
            var buffer = new ArrayBufferWriter<byte>();
            ImapFetchFormatter.WriteEnvelope(new ImapResponseWriter(buffer, utf8), view.Message);
            Assert.Equal(
                "(NIL \"=?UTF-8?Q?d=C3=A9j=C3=A0?= vu\" ((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"x.dk\")) " +
                "((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"x.dk\")) ((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"x.dk\")) " +
                "((\"=?US-ASCII?Q?Keith_Moore?=\" NIL \"moore\" \"cs.utk.edu\")(\"=?bogus?Q?abc?=\" NIL \"a\" \"b.test\")(\"Doe, =?x?q?J?=\" NIL \"j\" \"d.test\")) " +
                "((NIL NIL \"list =?UTF-8?Q?=C3=A9?=\" NIL)(NIL NIL \"m\" \"l.test\")(NIL NIL NIL NIL)) NIL NIL NIL)",
                Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }

    [Fact]
    public void Bodystructure_gives_encoded_words_in_description_and_parameters_as_written()
    {
        var view = ImapMessageView.Parse(Encoding.ASCII.GetBytes(
            "Content-Type: application/pdf; name=\"=?UTF-8?B?w6l0w6kucGRm?=\"\r\nContent-Description: =?UTF-8?Q?d=C3=A9sc?=\r\n" +
            "Content-Disposition: attachment; filename=\"=?UTF-8?B?w6l0w6kucGRm?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"));
        var buffer = new ArrayBufferWriter<byte>();
        ImapFetchFormatter.WriteBodyStructure(new ImapResponseWriter(buffer), view, view.Message.Body!, extended: true);
        Assert.Equal(
            "(\"APPLICATION\" \"PDF\" (\"NAME\" \"=?UTF-8?B?w6l0w6kucGRm?=\") NIL \"=?UTF-8?Q?d=C3=A9sc?=\" \"BASE64\" 6 NIL " +
            "(\"ATTACHMENT\" (\"FILENAME\" \"=?UTF-8?B?w6l0w6kucGRm?=\")) NIL NIL)",
            Encoding.ASCII.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void A_raw_utf8_name_reaches_a_client_without_utf8_as_an_encoded_word()
    {
        var view = ImapMessageView.Parse(Encoding.UTF8.GetBytes("From: J\u00f6rg <j@b.test>, =?UTF-8?Q?x?= <x@b.test>\r\n\r\nbody\r\n"));
        var buffer = new ArrayBufferWriter<byte>();
        ImapFetchFormatter.WriteEnvelope(new ImapResponseWriter(buffer), view.Message);
        Assert.Contains("((\"=?utf-8?b?SsO2cmc=?=\" NIL \"j\" \"b.test\")(\"=?UTF-8?Q?x?=\" NIL \"x\" \"b.test\"))", Encoding.ASCII.GetString(buffer.WrittenSpan), StringComparison.Ordinal);
    }

    [Fact]
    public void Bodystructure_extension_fields_give_md5_language_and_location_as_written()
    {
        var view = ImapMessageView.Parse(Encoding.ASCII.GetBytes(
            "Content-Type: text/plain\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\nContent-Language: =?UTF-8?Q?=C3=A9?=\r\n" +
            "Content-Location: =?UTF-8?Q?=C3=A9t=C3=A9?=\r\n\r\nabc\r\n"));
        var buffer = new ArrayBufferWriter<byte>();
        ImapFetchFormatter.WriteBodyStructure(new ImapResponseWriter(buffer), view, view.Message.Body!, extended: true);
        Assert.Equal(
            "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" NIL (\"=?UTF-8?Q?=C3=A9?=\") \"=?UTF-8?Q?=C3=A9t=C3=A9?=\")",
            Encoding.ASCII.GetString(buffer.WrittenSpan));
    }
}
