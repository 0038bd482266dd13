using System.Text;

namespace Postern.IntegrationTests.Imap;

/// <summary>
/// Behaviours that Dovecot's imaptest compliance scripts check (atoms, esearch-condstore, fetch-binary-mime-qp,
/// fetch-body-mime, fetch-envelope, search-addresses, append-binary, keywords) and concurrent expunges from its
/// stress mode, each as a raw exchange.
/// </summary>
public sealed class ImapComplianceTests
{
    private static async Task<RawImapClient> SelectAsync(ImapTestServer server, string prefix, string mailbox = "INBOX")
    {
        var client = await ImapTranscriptTests.LoginAsync(server);
        await client.SendAsync($"{prefix}0 SELECT {mailbox}\r\n");
        Assert.StartsWith(prefix + "0 OK", (await client.ReadUntilTaggedAsync(prefix + "0"))[^1], StringComparison.Ordinal);
        return client;
    }

    [Fact]
    public async Task A_name_that_is_not_modified_utf7_names_no_mailbox_and_is_not_a_syntax_error()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);
        await client.SendAsync("a1 SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\na2 LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\r\n" +
            "a3 CREATE &Jjo\r\na4 CREATE \"Tom &- Jerry\"\r\na5 LIST \"\" Tom*\r\n");
        Assert.StartsWith("a1 NO [NONEXISTENT]", (await client.ReadUntilTaggedAsync("a1"))[^1], StringComparison.Ordinal);
        Assert.Equal(["a2 OK LIST completed"], await client.ReadUntilTaggedAsync("a2"));
        Assert.StartsWith("a3 NO [CANNOT]", (await client.ReadUntilTaggedAsync("a3"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("a4 OK", (await client.ReadUntilTaggedAsync("a4"))[^1], StringComparison.Ordinal);
        Assert.Contains("* LIST (\\HasNoChildren) \"/\" \"Tom &- Jerry\"", await client.ReadUntilTaggedAsync("a5"));
    }

    [Fact]
    public async Task With_qresync_every_flag_change_fetch_carries_uid_and_modseq_also_an_implicit_seen()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: one\r\n\r\nfirst\r\n");
        await server.DeliverAsync("INBOX", "Subject: two\r\n\r\nsecond\r\n");
        await server.DeliverAsync("INBOX", "Subject: three\r\n\r\nthird\r\n");
        using var client = await ImapTranscriptTests.LoginAsync(server);
        await client.SendAsync("q1 ENABLE QRESYNC\r\nq2 SELECT INBOX\r\nq3 STORE 1 +FLAGS.SILENT (\\Seen)\r\nq4 STORE 2 +FLAGS (\\Flagged)\r\n" +
            "q5 FETCH 3 (BODY[TEXT])\r\n");
        await client.ReadUntilTaggedAsync("q2");

        // RFC 7162 §3.2.4: UID and MODSEQ in every FETCH a flag change causes, STORE's echo and FETCH's implicit \Seen alike.
        Assert.Matches(@"^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$", (await client.ReadUntilTaggedAsync("q3"))[0]);
        Assert.Matches(@"^\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) UID 2 MODSEQ \(\d+\)\)$", (await client.ReadUntilTaggedAsync("q4"))[0]);
        var fetched = await client.ReadUntilTaggedAsync("q5");
        Assert.Matches(@"^ FLAGS \(\\Seen \\Recent\) UID 3 MODSEQ \(\d+\)\)$", fetched[^2]);

        // The MODSEQ announced is the message's new one.
        await client.SendAsync("q6 FETCH 3 (MODSEQ)\r\n");
        var modseq = (await client.ReadUntilTaggedAsync("q6"))[0].Split("MODSEQ ")[1];
        Assert.EndsWith("MODSEQ " + modseq, fetched[^2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_condstore_an_implicit_seen_announces_the_new_modseq()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: one\r\n\r\nfirst\r\n");
        using var client = await ImapTranscriptTests.LoginAsync(server);
        await client.SendAsync("c1 ENABLE CONDSTORE\r\nc2 SELECT INBOX\r\nc3 FETCH 1 (BODY[TEXT])\r\n");
        await client.ReadUntilTaggedAsync("c2");
        Assert.Matches(@"^ FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)$", (await client.ReadUntilTaggedAsync("c3"))[^2]);
    }

    [Fact]
    public async Task A_public_folder_subscription_is_kept_listed_and_removed()
    {
        await using var server = await ImapTestServer.StartAsync();
        Assert.True((await server.Server.Store.PublicFolders.AddFolderAsync("Shared", null, null, CancellationToken.None)).IsOk);
        using (var client = await ImapTranscriptTests.LoginAsync(server))
        {
            await client.SendAsync("s1 SUBSCRIBE \"Public Folders/Shared\"\r\ns2 SUBSCRIBE \"Public Folders/Missing\"\r\n");
            Assert.StartsWith("s1 OK", (await client.ReadUntilTaggedAsync("s1"))[^1], StringComparison.Ordinal);
            Assert.StartsWith("s2 NO [NONEXISTENT]", (await client.ReadUntilTaggedAsync("s2"))[^1], StringComparison.Ordinal);
        }

        // Kept for the account, not the session: a new session lists it with LSUB, LIST (SUBSCRIBED) and RETURN (SUBSCRIBED).
        using var again = await ImapTranscriptTests.LoginAsync(server);
        await again.SendAsync("l1 LSUB \"\" \"Public Folders/*\"\r\nl2 LIST (SUBSCRIBED) \"\" \"Public Folders/*\"\r\n" +
            "l3 LIST \"\" \"Public Folders/*\" RETURN (SUBSCRIBED)\r\n");
        Assert.Contains("* LSUB () \"/\" \"Public Folders/Shared\"", await again.ReadUntilTaggedAsync("l1"));
        Assert.Contains(await again.ReadUntilTaggedAsync("l2"), l => l.StartsWith("* LIST (", StringComparison.Ordinal) && l.Contains("\\Subscribed", StringComparison.Ordinal) && l.EndsWith("\"Public Folders/Shared\"", StringComparison.Ordinal));
        Assert.Contains(await again.ReadUntilTaggedAsync("l3"), l => l.Contains("\\Subscribed", StringComparison.Ordinal) && l.EndsWith("\"Public Folders/Shared\"", StringComparison.Ordinal));

        await again.SendAsync("u1 UNSUBSCRIBE \"Public Folders/Shared\"\r\nu2 LSUB \"\" \"Public Folders/*\"\r\n");
        Assert.StartsWith("u1 OK", (await again.ReadUntilTaggedAsync("u1"))[^1], StringComparison.Ordinal);
        Assert.Equal(["u2 OK LSUB completed"], await again.ReadUntilTaggedAsync("u2"));
    }

    [Fact]
    public async Task Binary_of_content_that_does_not_decode_strictly_is_no_parse()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=Z\r\n\r\n--Z\r\n" +
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=aGVsbG8=\r\n--Z\r\n" +
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad=ZZqp=\r\n--Z\r\n" +
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--Z\r\n" +
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8\r\n--Z\r\n" +
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a.txt\r\n%:&5L;&\\`\r\n`\r\nend\r\n--Z--\r\n");
        using var client = await SelectAsync(server, "b");
        await client.SendAsync("b1 FETCH 1 BINARY.PEEK[1]\r\nb2 FETCH 1 BINARY.SIZE[2]\r\nb3 FETCH 1 BINARY.PEEK[]\r\nb4 FETCH 1 BINARY.PEEK[3]\r\n" +
            "b5 FETCH 1 BINARY.PEEK[4]\r\nb6 FETCH 1 BINARY.SIZE[5]\r\n");

        // RFC 3516 §4.2 promises decoded octets; Dovecot refuses content it cannot decode: NO [PARSE] (RFC 5530).
        Assert.Equal(["b1 NO [PARSE] Invalid data in MIME part"], await client.ReadUntilTaggedAsync("b1"));
        Assert.Equal(["b2 NO [PARSE] Invalid data in MIME part"], await client.ReadUntilTaggedAsync("b2"));
        Assert.Equal(["b3 NO [PARSE] Invalid data in MIME part"], await client.ReadUntilTaggedAsync("b3"));
        Assert.Equal(["* 1 FETCH (BINARY[3] {5}", "hello)", "b4 OK FETCH completed"], await client.ReadUntilTaggedAsync("b4"));

        // Base64 without its padding: MimeKit would decode "hel" of "hello", so it is refused, never cut short.
        Assert.Equal(["b5 NO [PARSE] Invalid data in MIME part"], await client.ReadUntilTaggedAsync("b5"));

        // x-uuencode is no RFC 2045 encoding: UNKNOWN-CTE tells the client to fetch BODY[] and decode it itself.
        Assert.Equal(["b6 NO [UNKNOWN-CTE] Unknown content-transfer-encoding"], await client.ReadUntilTaggedAsync("b6"));
    }

    [Fact]
    public async Task An_eight_bit_or_empty_mailbox_name_is_no_without_utf8_and_qresync_known_uids_take_no_star()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);

        // RFC 3501 §9: quoted strings are 7-bit; without UTF8=ACCEPT an 8-bit name is no name (NO, as Dovecot, not BAD).
        await client.SendAsync(Encoding.UTF8.GetBytes("e1 CREATE \"R\u00e9al\"\r\ne2 SELECT \"R\u00e9al\"\r\ne3 LIST \"\" *\r\n"));
        Assert.StartsWith("e1 NO [CANNOT]", (await client.ReadUntilTaggedAsync("e1"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("e2 NO [NONEXISTENT]", (await client.ReadUntilTaggedAsync("e2"))[^1], StringComparison.Ordinal);
        Assert.DoesNotContain(await client.ReadUntilTaggedAsync("e3"), l => l.Contains("R&AOk-al", StringComparison.Ordinal));

        // "" is a valid astring that names no mailbox.
        await client.SendAsync("e4 SELECT \"\"\r\ne5 CREATE {0+}\r\n\r\ne6 ENABLE QRESYNC\r\ne7 SELECT INBOX (QRESYNC (1 1 *))\r\n" +
            "e8 SELECT INBOX (QRESYNC (1 1 1:5 (1:* 1:5)))\r\n");
        Assert.StartsWith("e4 NO [NONEXISTENT]", (await client.ReadUntilTaggedAsync("e4"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("e5 NO [CANNOT]", (await client.ReadUntilTaggedAsync("e5"))[^1], StringComparison.Ordinal);
        await client.ReadUntilTaggedAsync("e6");

        // RFC 7162 §7: "*" is not allowed in known-uids or seq-match-data.
        Assert.StartsWith("e7 BAD", (await client.ReadUntilTaggedAsync("e7"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("e8 BAD", (await client.ReadUntilTaggedAsync("e8"))[^1], StringComparison.Ordinal);

        // After ENABLE UTF8=ACCEPT the same name is UTF-8 and may be created.
        await client.SendAsync(Encoding.UTF8.GetBytes("e9 ENABLE UTF8=ACCEPT\r\ne10 CREATE \"R\u00e9al\"\r\n"));
        await client.ReadUntilTaggedAsync("e9");
        Assert.StartsWith("e10 OK", (await client.ReadUntilTaggedAsync("e10"))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mailbox_name_with_a_control_character_is_refused()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);

        // RFC 9051 §5.1, RFC 6855 §3: no U+0000-U+001F, U+007F, U+0080-U+009F, U+2028 or U+2029 in a mailbox name, whether it
        // comes in modified UTF-7 (&AAE- is U+0001) or, after ENABLE UTF8=ACCEPT, as UTF-8.
        await client.SendAsync("c1 CREATE a&AAE-b\r\nc2 CREATE ok\r\nc3 ENABLE UTF8=ACCEPT\r\n");
        Assert.StartsWith("c1 NO [CANNOT]", (await client.ReadUntilTaggedAsync("c1"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("c2 OK", (await client.ReadUntilTaggedAsync("c2"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("c3 OK", (await client.ReadUntilTaggedAsync("c3"))[^1], StringComparison.Ordinal);
        await client.SendAsync("c4 CREATE \"tab\tname\"\r\nc5 CREATE \"del\u007f\"\r\nc6 CREATE \"c1\u0085\"\r\nc7 CREATE \"line\u2028sep\"\r\n" +
            "c8 RENAME ok \"ok\u2029\"\r\nc9 SUBSCRIBE \"sub\u0001\"\r\nc10 LIST \"\" *\r\n");
        foreach (var tag in new[] { "c4", "c5", "c6", "c7", "c8", "c9" })
        {
            Assert.StartsWith(tag + " NO [CANNOT]", (await client.ReadUntilTaggedAsync(tag))[^1], StringComparison.Ordinal);
        }

        var listed = await client.ReadUntilTaggedAsync("c10");
        Assert.Contains("* LIST (\\HasNoChildren) \"/\" ok", listed);
        Assert.DoesNotContain(listed, l => l.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029'));
    }

    [Fact]
    public async Task A_mailbox_cannot_be_renamed_into_its_own_subtree_but_INBOX_can()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);
        await client.SendAsync("r1 CREATE ww/q\r\nr2 RENAME ww ww/q/r\r\nr3 RENAME ww/q ww/q/x\r\nr4 RENAME ww wwx\r\nr5 RENAME INBOX INBOX/old\r\nr6 LIST \"\" *\r\n");
        Assert.StartsWith("r1 OK", (await client.ReadUntilTaggedAsync("r1"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("r2 NO [CANNOT]", (await client.ReadUntilTaggedAsync("r2"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("r3 NO [CANNOT]", (await client.ReadUntilTaggedAsync("r3"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("r4 OK", (await client.ReadUntilTaggedAsync("r4"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("r5 OK", (await client.ReadUntilTaggedAsync("r5"))[^1], StringComparison.Ordinal);
        var names = (await client.ReadUntilTaggedAsync("r6")).Where(l => l.StartsWith("* LIST", StringComparison.Ordinal)).Select(l => l[(l.LastIndexOf(' ') + 1)..]).ToList();
        Assert.Contains("wwx/q", names);
        Assert.Contains("INBOX/old", names);
        Assert.DoesNotContain(names, n => n.StartsWith("ww/", StringComparison.Ordinal) || n == "ww");
    }

    [Fact]
    public async Task A_renamed_mailbox_keeps_its_uidvalidity_and_a_new_one_by_the_old_name_gets_another()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);

        // RFC 9051 §2.3.1.1 asks a new UIDVALIDITY only of a new mailbox that takes a used name; the renamed one keeps its
        // UIDs, so a client's cache of it (and QRESYNC) stays good, as with Dovecot and Cyrus.
        await client.SendAsync("v1 CREATE old\r\nv2 APPEND old {16+}\r\nSubject: kept\r\n\r\n\r\nv3 STATUS old (UIDVALIDITY UIDNEXT)\r\n" +
            "v4 RENAME old new\r\nv5 STATUS new (UIDVALIDITY UIDNEXT)\r\nv6 CREATE old\r\nv7 STATUS old (UIDVALIDITY)\r\n");
        await client.ReadUntilTaggedAsync("v2");
        var before = (await client.ReadUntilTaggedAsync("v3"))[0];
        Assert.StartsWith("v4 OK", (await client.ReadUntilTaggedAsync("v4"))[^1], StringComparison.Ordinal);
        Assert.Equal(before.Replace("STATUS old", "STATUS new", StringComparison.Ordinal), (await client.ReadUntilTaggedAsync("v5"))[0]);
        await client.ReadUntilTaggedAsync("v6");
        var recreated = (await client.ReadUntilTaggedAsync("v7"))[0];
        var validity = before[(before.LastIndexOf(' ') + 1)..^1];
        Assert.StartsWith("* STATUS old (UIDVALIDITY ", recreated, StringComparison.Ordinal);
        Assert.DoesNotContain(validity, recreated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_keyword_is_announced_in_FLAGS_before_a_FETCH_shows_it()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: 1\r\n\r\nbody\r\n");
        using var first = await SelectAsync(server, "a");
        using var second = await SelectAsync(server, "b");
        await first.SendAsync("a1 STORE 1 +FLAGS ($hello)\r\n");
        var stored = await first.ReadUntilTaggedAsync("a1");
        Assert.Equal("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $hello)", stored[0]);
        Assert.StartsWith("* 1 FETCH (FLAGS (", stored[1], StringComparison.Ordinal);
        Assert.Contains("$hello", stored[1], StringComparison.Ordinal);

        // Another session hears of the keyword the same way, once.
        await second.SendAsync("b1 NOOP\r\nb2 FETCH 1 FLAGS\r\n");
        var pushed = await second.ReadUntilTaggedAsync("b1");
        Assert.Equal("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $hello)", pushed[0]);
        Assert.Contains("$hello", pushed[1], StringComparison.Ordinal);
        Assert.DoesNotContain(await second.ReadUntilTaggedAsync("b2"), l => l.StartsWith("* FLAGS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_first_condstore_enabling_command_reports_HIGHESTMODSEQ_and_ESEARCH_MIN_MAX_carry_their_own_modseq()
    {
        await using var server = await ImapTestServer.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            await server.DeliverAsync("INBOX", $"Subject: {i}\r\n\r\nbody\r\n");
        }

        using var client = await SelectAsync(server, "c");
        await client.SendAsync("c1 FETCH 1 MODSEQ\r\n");
        var first = await client.ReadUntilTaggedAsync("c1");
        Assert.Matches(@"^\* OK \[HIGHESTMODSEQ \d+\]", first[0]);
        await client.SendAsync("c2 FETCH 1 MODSEQ\r\n");
        Assert.DoesNotContain(await client.ReadUntilTaggedAsync("c2"), l => l.Contains("HIGHESTMODSEQ", StringComparison.Ordinal));

        await client.SendAsync("c3 STORE 1 +FLAGS (\\Seen)\r\nc4 STORE 3 +FLAGS (\\Seen)\r\nc5 STORE 2 +FLAGS (\\Seen)\r\n");
        long ModSeqOf(List<string> lines) => long.Parse(System.Text.RegularExpressions.Regex.Match(lines[0], @"MODSEQ \((\d+)\)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var one = ModSeqOf(await client.ReadUntilTaggedAsync("c3"));
        var three = ModSeqOf(await client.ReadUntilTaggedAsync("c4"));
        var two = ModSeqOf(await client.ReadUntilTaggedAsync("c5"));
        await client.SendAsync("c6 SEARCH RETURN (MIN) 1:3 MODSEQ 1\r\nc7 SEARCH RETURN (MAX) 1:3 MODSEQ 1\r\nc8 SEARCH RETURN (ALL) 1:3 MODSEQ 1\r\n");
        Assert.Equal($"* ESEARCH (TAG \"c6\") MIN 1 MODSEQ {one}", (await client.ReadUntilTaggedAsync("c6"))[0]);
        Assert.Equal($"* ESEARCH (TAG \"c7\") MAX 3 MODSEQ {three}", (await client.ReadUntilTaggedAsync("c7"))[0]);
        Assert.Equal($"* ESEARCH (TAG \"c8\") ALL 1:3 MODSEQ {two}", (await client.ReadUntilTaggedAsync("c8"))[0]);
    }

    [Fact]
    public async Task Binary_of_quoted_printable_drops_trailing_blanks_and_honours_soft_breaks_followed_by_blanks()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Mime-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
            "hello  \r\nfoo\t \t= \r\n=62\r\nfoo = \t\r\nbar\r\n");
        using var client = await SelectAsync(server, "q");
        await client.SendAsync("q1 FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n");
        var lines = await client.ReadUntilTaggedAsync("q1");
        Assert.Equal(["* 1 FETCH (BINARY.SIZE[1] 25 BINARY[1] {25}", "hello", "foo\t \tb", "foo bar", ")", "q1 OK FETCH completed"], lines);
    }

    [Fact]
    public async Task Header_fields_of_an_attached_message_include_its_content_fields()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nMime-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
            "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n" +
            "From: sub@example.test\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\ninner body\r\n--b--\r\n");
        using var client = await SelectAsync(server, "h");
        await client.SendAsync("h1 FETCH 1 (BODY.PEEK[2.HEADER.FIELDS.NOT (From Subject)])\r\n");
        var lines = await client.ReadUntilTaggedAsync("h1");
        Assert.Equal(["* 1 FETCH (BODY[2.HEADER.FIELDS.NOT (From Subject)] {28}", "Content-Type: text/plain", "", ")", "h1 OK FETCH completed"], lines);
    }

    [Fact]
    public async Task Envelope_keeps_a_source_route_and_address_search_sees_through_comments()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: <@route:user@domain.test>\r\nSubject: r\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "From: <user-from (comment)@ (comment) domain.test>\r\nSubject: c\r\n\r\nbody\r\n");
        using var client = await SelectAsync(server, "e");
        await client.SendAsync("e1 FETCH 1 ENVELOPE\r\ne2 SEARCH FROM user-from@domain.test\r\n");
        Assert.Contains("((NIL \"@route\" \"user\" \"domain.test\"))", (await client.ReadUntilTaggedAsync("e1"))[0], StringComparison.Ordinal);
        Assert.Equal("* SEARCH 2", (await client.ReadUntilTaggedAsync("e2"))[0]);
    }

    [Fact]
    public async Task A_date_header_that_cannot_be_read_matches_no_sent_date_search_as_a_missing_one()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nDate: garbage\r\nSubject: g\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nSubject: d\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: n\r\n\r\nbody\r\n");
        using var client = await SelectAsync(server, "s");
        await client.SendAsync("s1 SEARCH SENTBEFORE 1-Jan-2000\r\ns2 SEARCH SENTON 1-Jan-0001\r\ns3 SEARCH SENTSINCE 1-Jan-2000\r\n");
        Assert.Equal("* SEARCH", (await client.ReadUntilTaggedAsync("s1"))[0]);
        Assert.Equal("* SEARCH", (await client.ReadUntilTaggedAsync("s2"))[0]);
        Assert.Equal("* SEARCH 2", (await client.ReadUntilTaggedAsync("s3"))[0]);
    }

    [Fact]
    public async Task Body_and_text_search_look_inside_a_forwarded_message()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: plain\r\n\r\nnothing here\r\n");
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
            "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n" +
            "From: inner@example.test\r\nSubject: innersubject\r\n\r\ninnerbody\r\n--b--\r\n");
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: bare\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n" +
            "Subject: innersubject\r\n\r\ninnerbody\r\n");
        using var client = await SelectAsync(server, "s");
        await client.SendAsync("s1 SEARCH BODY innerbody\r\ns2 SEARCH TEXT innersubject\r\ns3 SEARCH BODY innersubject\r\n");
        Assert.Equal("* SEARCH 2 3", (await client.ReadUntilTaggedAsync("s1"))[0]);
        Assert.Equal("* SEARCH 2 3", (await client.ReadUntilTaggedAsync("s2"))[0]);
        Assert.Equal("* SEARCH", (await client.ReadUntilTaggedAsync("s3"))[0]);
    }

    [Fact]
    public async Task Header_search_sees_the_content_fields()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: plain\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: typed\r\nContent-Type: text/plain; charset=utf-8\r\n" +
            "Content-Transfer-Encoding: quoted-printable\r\n\r\nbody\r\n");
        using var client = await SelectAsync(server, "s");
        await client.SendAsync("s1 SEARCH HEADER Content-Type charset\r\ns2 SEARCH HEADER Content-Transfer-Encoding \"\"\r\ns3 SEARCH TEXT quoted-printable\r\n");
        Assert.Equal("* SEARCH 2", (await client.ReadUntilTaggedAsync("s1"))[0]);
        Assert.Equal("* SEARCH 2", (await client.ReadUntilTaggedAsync("s2"))[0]);
        Assert.Equal("* SEARCH 2", (await client.ReadUntilTaggedAsync("s3"))[0]);
    }

    [Fact]
    public async Task Binary_fetch_of_an_unknown_encoding_is_NO_UNKNOWN_CTE_without_an_empty_FETCH()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: cte\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-foo\r\n\r\nabc\r\n");
        using var client = await SelectAsync(server, "b");
        await client.SendAsync("b1 FETCH 1 BINARY.PEEK[1]\r\nb2 FETCH 1 (BINARY.SIZE[1] UID)\r\n");

        // RFC 3516 §4.3; "* 1 FETCH ()" would not be valid syntax (msg-att holds at least one item).
        var first = await client.ReadUntilTaggedAsync("b1");
        Assert.Single(first);
        Assert.StartsWith("b1 NO [UNKNOWN-CTE]", first[0], StringComparison.Ordinal);
        var second = await client.ReadUntilTaggedAsync("b2");
        Assert.Single(second);
        Assert.StartsWith("b2 NO [UNKNOWN-CTE]", second[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_with_min_or_max_alone_keeps_only_those_messages()
    {
        await using var server = await ImapTestServer.StartAsync();
        for (var i = 1; i <= 4; i++)
        {
            await server.DeliverAsync("INBOX", $"From: a@example.test\r\nSubject: m{i}\r\n\r\nbody\r\n");
        }

        using var client = await SelectAsync(server, "v");

        // RFC 9051 §6.4.4.1: SAVE with MIN and/or MAX (no ALL or COUNT) saves only the message(s) they return.
        await client.SendAsync("v1 SEARCH RETURN (SAVE MIN) 2:4\r\nv2 SEARCH $\r\nv3 SEARCH RETURN (SAVE MIN MAX) 1:3\r\nv4 SEARCH $\r\n" +
            "v5 SEARCH RETURN (SAVE MAX COUNT) 1:3\r\nv6 SEARCH $\r\n");
        Assert.Equal("* ESEARCH (TAG \"v1\") MIN 2", (await client.ReadUntilTaggedAsync("v1"))[0]);
        Assert.Equal("* SEARCH 2", (await client.ReadUntilTaggedAsync("v2"))[0]);
        Assert.Equal("* ESEARCH (TAG \"v3\") MIN 1 MAX 3", (await client.ReadUntilTaggedAsync("v3"))[0]);
        Assert.Equal("* SEARCH 1 3", (await client.ReadUntilTaggedAsync("v4"))[0]);
        Assert.Equal("* ESEARCH (TAG \"v5\") MAX 3 COUNT 3", (await client.ReadUntilTaggedAsync("v5"))[0]);
        Assert.Equal("* SEARCH 1 2 3", (await client.ReadUntilTaggedAsync("v6"))[0]);
    }

    [Fact]
    public async Task After_utf8_accept_a_search_naming_a_charset_is_bad()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: one\r\n\r\nbody\r\n");
        using var client = await SelectAsync(server, "u");
        await client.SendAsync("u1 SEARCH CHARSET UTF-8 ALL\r\nu2 UNSELECT\r\nu3 ENABLE UTF8=ACCEPT\r\nu4 SELECT INBOX\r\n");
        Assert.Equal(["* SEARCH 1", "u1 OK SEARCH completed"], await client.ReadUntilTaggedAsync("u1"));
        Assert.StartsWith("u4 OK", (await client.ReadUntilTaggedAsync("u4"))[^1], StringComparison.Ordinal);

        // RFC 6855 §3: after ENABLE UTF8=ACCEPT a SEARCH with a charset conflicts with the session's UTF-8: BAD.
        await client.SendAsync("u5 SEARCH CHARSET UTF-8 ALL\r\nu6 UID SEARCH CHARSET US-ASCII SUBJECT one\r\n" +
            "u7 SEARCH RETURN (COUNT) CHARSET UTF-8 ALL\r\nu8 SEARCH SUBJECT one\r\n");
        foreach (var tag in new[] { "u5", "u6", "u7" })
        {
            var lines = await client.ReadUntilTaggedAsync(tag);
            Assert.Single(lines);
            Assert.StartsWith(tag + " BAD", lines[0], StringComparison.Ordinal);
            Assert.Contains("UTF8=ACCEPT", lines[0], StringComparison.Ordinal);
        }

        Assert.Equal(["* SEARCH 1", "u8 OK SEARCH completed"], await client.ReadUntilTaggedAsync("u8"));
    }

    [Fact]
    public async Task Binary_of_the_whole_message_is_its_header_and_decoded_body()
    {
        await using var server = await ImapTestServer.StartAsync();
        const string Header = "From: a@example.test\r\nSubject: b64\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n";
        await server.DeliverAsync("INBOX", Header + "Content-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String("hello binary world"u8.ToArray()) + "\r\n");
        const string Plain = "From: a@example.test\r\nSubject: plain\r\n\r\nplain body\r\n";
        await server.DeliverAsync("INBOX", Plain);
        using var client = await SelectAsync(server, "w");

        // RFC 9051 §6.4.5: BINARY[] is the whole message (as BODY[] is) with its content-transfer-encoding undone, not the body alone.
        await client.SendAsync("w1 FETCH 1 (BINARY.PEEK[] BINARY.SIZE[])\r\nw2 FETCH 2 (BINARY.PEEK[] BINARY.SIZE[])\r\n");
        var expected = Header + "Content-Transfer-Encoding: binary\r\n\r\nhello binary world";
        var expectedLines = expected.Split("\r\n");
        expectedLines[^1] += $" BINARY.SIZE[] {expected.Length})";
        Assert.Equal([$"* 1 FETCH (BINARY[] {{{expected.Length}}}", .. expectedLines, "w1 OK FETCH completed"], await client.ReadUntilTaggedAsync("w1"));
        Assert.Equal(
            [$"* 2 FETCH (BINARY[] {{{Plain.Length}}}", .. Plain.Split("\r\n")[..^1], $" BINARY.SIZE[] {Plain.Length})", "w2 OK FETCH completed"],
            await client.ReadUntilTaggedAsync("w2"));
    }

    [Fact]
    public async Task A_non_ascii_attachment_name_reaches_a_client_without_utf8_as_rfc2231_not_raw_octets()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: att\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=Z\r\n\r\n--Z\r\n" +
            "Content-Type: text/plain\r\n\r\nx\r\n--Z\r\nContent-Type: application/pdf; name*=utf-8''%C3%A9t%C3%A9.pdf\r\n" +
            "Content-Disposition: attachment; filename=\"=?utf-8?b?w6l0w6kucGRm?=\"; size=3\r\n\r\nabc\r\n--Z--\r\n");
        using var client = await SelectAsync(server, "t");

        // A rev1 client without UTF8=ACCEPT expects 7-bit parameter values: a non-ASCII one goes as RFC 2231 (NAME*), as Dovecot
        // sends it; after UTF8=ACCEPT it is the UTF-8 text. An encoded-word stays as written (RFC 3501 §7.4.2).
        await client.SendAsync("t1 FETCH 1 BODYSTRUCTURE\r\nt2 UNSELECT\r\nt3 ENABLE UTF8=ACCEPT\r\nt4 EXAMINE INBOX\r\nt5 FETCH 1 BODYSTRUCTURE\r\n");
        var ascii = (await client.ReadUntilTaggedAsync("t1"))[0];
        Assert.Contains("(\"APPLICATION\" \"PDF\" (\"NAME*\" \"utf-8''%C3%A9t%C3%A9.pdf\")", ascii, StringComparison.Ordinal);
        Assert.Contains("(\"ATTACHMENT\" (\"FILENAME\" \"=?utf-8?b?w6l0w6kucGRm?=\" \"SIZE\" \"3\"))", ascii, StringComparison.Ordinal);
        await client.ReadUntilTaggedAsync("t4");
        var utf8 = (await client.ReadUntilTaggedAsync("t5"))[0];
        Assert.Contains("(\"APPLICATION\" \"PDF\" (\"NAME\" \"été.pdf\")", utf8, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_binary_append_with_NUL_octets_is_stored_base64_and_binary_fetch_returns_the_octets()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);
        var header = "From: user@example.test\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"u8.ToArray();
        byte[] body = [0x00, 0x2D, 0xE4, 0x0A, 0x0D, 0x0A, 0x0A];
        byte[] message = [.. header, .. body];
        await client.SendAsync([.. Encoding.ASCII.GetBytes($"p1 APPEND INBOX ~{{{message.Length}+}}\r\n"), .. message, .. "\r\n"u8.ToArray()]);
        Assert.StartsWith("p1 OK", (await client.ReadUntilTaggedAsync("p1"))[^1], StringComparison.Ordinal);
        await client.SendAsync("p2 SELECT INBOX\r\np3 FETCH 1 (BODY.PEEK[1] BINARY.SIZE[1] BODYSTRUCTURE)\r\n");
        await client.ReadUntilTaggedAsync("p2");
        var lines = await client.ReadUntilTaggedAsync("p3");
        Assert.Equal("* 1 FETCH (BODY[1] {14}", lines[0]);
        Assert.Equal(Convert.ToBase64String(body), lines[1]);
        Assert.Contains("BINARY.SIZE[1] 7", lines[2], StringComparison.Ordinal);
        Assert.Contains("\"BASE64\"", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task NUL_octets_outside_binary_parts_are_refused_with_NO_and_the_session_goes_on()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);

        // Unreadable as a message (MimeKit gives up on the header), and a NUL in a header: no FETCH could return either.
        byte[][] messages = [[0x00, 0x00, 0x00], [.. "Subject: a\u0000b\r\n\r\nbody\r\n"u8.ToArray()]];
        var tag = 0;
        foreach (var message in messages)
        {
            var t = "n" + ++tag;
            await client.SendAsync([.. Encoding.ASCII.GetBytes($"{t} APPEND INBOX ~{{{message.Length}+}}\r\n"), .. message, .. "\r\n"u8.ToArray()]);
            Assert.StartsWith(t + " NO [CANNOT]", (await client.ReadUntilTaggedAsync(t))[^1], StringComparison.Ordinal);
        }

        await client.SendAsync("n9 STATUS INBOX (MESSAGES)\r\n");
        var status = await client.ReadUntilTaggedAsync("n9");
        Assert.Equal("* STATUS INBOX (MESSAGES 0)", status[0]);
    }

    [Fact]
    public async Task Mail_that_arrived_with_NUL_octets_is_fetched_without_them()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: nul\0here\r\n\r\nbody \0 with NUL\r\n" + new string('z', 70_000) + "\0\r\n");
        using var client = await SelectAsync(server, "z");
        await client.SendAsync("z1 FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[])\r\n");
        var lines = await client.ReadUntilTaggedAsync("z1");
        Assert.StartsWith("z1 OK", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains('\0', StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("body \uFFFD with NUL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Search_still_matches_a_message_another_session_expunged_by_what_needs_no_content()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: kept\r\n\r\nfirst\r\n");
        await server.DeliverAsync("INBOX", "Subject: gone\r\n\r\nsecond\r\n");
        using var reader = await SelectAsync(server, "r");
        using var remover = await SelectAsync(server, "x");
        await remover.SendAsync("x1 STORE 2 +FLAGS.SILENT (\\Deleted)\r\nx2 EXPUNGE\r\n");
        await remover.ReadUntilTaggedAsync("x2");

        // Message 2 is still in the reader's view (no EXPUNGE during SEARCH, RFC 3501 §7.4.1), but its content is gone:
        // a sequence set still matches it (imaptest's stress mode checks this), a header key neither matches nor, under
        // NOT, matches the other way.
        await reader.SendAsync("r1 SEARCH OR SUBJECT \"\" 2\r\nr2 SEARCH SUBJECT gone\r\nr3 SEARCH NOT SUBJECT zzz\r\n");
        Assert.Equal("* SEARCH 1 2", (await reader.ReadUntilTaggedAsync("r1"))[0]);
        Assert.Equal("* SEARCH", (await reader.ReadUntilTaggedAsync("r2"))[0]);
        Assert.Equal("* SEARCH 1", (await reader.ReadUntilTaggedAsync("r3"))[0]);

        // SORT keeps it too, with empty header keys (so first by subject).
        await reader.SendAsync("r4 SORT (SUBJECT) UTF-8 OR SUBJECT \"\" 2\r\n");
        Assert.Equal("* SORT 2 1", (await reader.ReadUntilTaggedAsync("r4"))[0]);
    }

    [Fact]
    public async Task Fetching_a_message_another_session_expunged_answers_NO_EXPUNGEISSUED_never_other_content()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: mine\r\n\r\nfirst\r\n");
        using var reader = await SelectAsync(server, "r");
        using var remover = await SelectAsync(server, "x");
        await remover.SendAsync("x1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\nx2 EXPUNGE\r\n");
        await remover.ReadUntilTaggedAsync("x2");
        await server.DeliverAsync("INBOX", "Subject: someone else's\r\n\r\nsecond\r\n");

        // The reader still lists message 1 (no EXPUNGE during FETCH, RFC 3501 §7.4.1), but its content is gone.
        await reader.SendAsync("r1 FETCH 1 (BODY.PEEK[])\r\n");
        var lines = await reader.ReadUntilTaggedAsync("r1");
        Assert.DoesNotContain(lines, l => l.Contains("second", StringComparison.Ordinal) || l.Contains("BODY[]", StringComparison.Ordinal));
        Assert.StartsWith("r1 NO [EXPUNGEISSUED]", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_envelope_given_again_is_the_same_and_each_session_gets_it_in_its_own_utf8_mode()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: J\u00f6rg <j@b.test>\r\nSubject: plain\r\n\r\nbody\r\n");
        const string Encoded = "((\"=?utf-8?b?SsO2cmc=?=\" NIL \"j\" \"b.test\"))";
        const string Utf8 = "((\"J\u00f6rg\" NIL \"j\" \"b.test\"))";

        using var plain = await SelectAsync(server, "p");
        await plain.SendAsync("p1 FETCH 1 (ENVELOPE BODYSTRUCTURE)\r\np2 FETCH 1 (ENVELOPE BODYSTRUCTURE)\r\n");
        var first = (await plain.ReadUntilTaggedAsync("p1"))[0];
        Assert.Contains(Encoded, first, StringComparison.Ordinal);
        Assert.Equal(first, (await plain.ReadUntilTaggedAsync("p2"))[0]);

        // RFC 6855 §3: after ENABLE UTF8=ACCEPT the name goes out as UTF-8, not as the encoded word given before.
        using var utf8 = await ImapTranscriptTests.LoginAsync(server);
        await utf8.SendAsync("u1 ENABLE UTF8=ACCEPT\r\nu2 SELECT INBOX\r\nu3 FETCH 1 (ENVELOPE BODYSTRUCTURE)\r\n");
        var utf8Envelope = (await utf8.ReadUntilTaggedAsync("u3")).Single(l => l.StartsWith("* 1 FETCH", StringComparison.Ordinal));
        Assert.Contains(Utf8, utf8Envelope, StringComparison.Ordinal);
        Assert.Equal(first.Replace(Encoded, Utf8, StringComparison.Ordinal), utf8Envelope);

        await plain.SendAsync("p3 FETCH 1 ENVELOPE\r\n");
        Assert.Contains(Encoded, (await plain.ReadUntilTaggedAsync("p3"))[0], StringComparison.Ordinal);
    }
}
