using System.Text;
using Postern.Server.Imap;

namespace Postern.IntegrationTests.Imap;

/// <summary>Raw C:/S: exchanges for the parts of the protocol a library client does not exercise.</summary>
public sealed class ImapTranscriptTests
{
    internal static async Task<RawImapClient> LoginAsync(ImapTestServer server)
    {
        var client = await server.ConnectRawAsync();
        await client.SendAsync($"L1 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\n");
        Assert.StartsWith("L1 OK", (await client.ReadUntilTaggedAsync("L1"))[^1], StringComparison.Ordinal);
        return client;
    }

    /// <summary>Sends the commands pipelined, tagged prefix+first, prefix+(first+1), …, and asserts each ends in OK.</summary>
    private static async Task AllOkAsync(RawImapClient client, string prefix, int first, params string[] commands)
    {
        var tags = commands.Select((_, i) => prefix + (first + i).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        await client.SendAsync(string.Concat(commands.Select((command, i) => $"{tags[i]} {command}\r\n")));
        foreach (var tag in tags)
        {
            Assert.StartsWith(tag + " OK", (await client.ReadUntilTaggedAsync(tag))[^1], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Synchronizing_literal_gets_a_continuation()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectRawAsync();
        await client.SendAsync($"a1 LOGIN {{{ImapTestServer.User.Length}}}\r\n");
        Assert.StartsWith("+ ", await client.ReadLineAsync(), StringComparison.Ordinal);
        await client.SendAsync($"{ImapTestServer.User} {{{ImapTestServer.Password.Length}+}}\r\n{ImapTestServer.Password}\r\n");
        var lines = await client.ReadUntilTaggedAsync("a1");
        Assert.StartsWith("a1 OK [CAPABILITY IMAP4rev1", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oversized_literal_is_refused_and_the_session_goes_on()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server);
        await client.SendAsync("a2 APPEND INBOX {4294967295}\r\n");
        Assert.Equal("a2 NO [TOOBIG] Literal too large", await client.ReadLineAsync());
        await client.SendAsync("a3 LOGIN {100000+}\r\n" + new string('x', 100000) + "\r\na4 NOOP\r\n");
        Assert.Equal("a3 BAD [TOOBIG] Literal too large", await client.ReadLineAsync());
        Assert.Equal("a4 OK NOOP completed", await client.ReadLineAsync());

        // Too big to read and discard: the connection closes, and the command still gets its tagged reply.
        await client.SendAsync("a5 APPEND INBOX {999999999999+}\r\nxxxx");
        Assert.Equal("* BYE [TOOBIG] Literal too large", await client.ReadLineAsync());
        Assert.StartsWith("a5 BAD [TOOBIG]", await client.ReadLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Before_login_a_command_cannot_make_the_server_hold_a_message_sized_literal()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectRawAsync();

        // A client that has not logged in gets no "+" for a message-sized literal (it would be buffered until the command
        // ends, 50 MB a connection), and no command of many literals either.
        await client.SendAsync("p1 APPEND INBOX {1000000}\r\n");
        Assert.StartsWith("p1 NO [TOOBIG]", await client.ReadLineAsync(), StringComparison.Ordinal);
        var literal = "{60000+}\r\n" + new string('x', 60000);
        await client.SendAsync("p2 ID (\"a\" " + string.Join(" \"b\" ", Enumerable.Repeat(literal, 8)) + ")\r\np3 NOOP\r\n");
        Assert.StartsWith("p2 BAD [TOOBIG]", await client.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("p3 OK NOOP completed", await client.ReadLineAsync());

        // Logged in, the message limit applies again.
        await client.SendAsync($"p4 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\n");
        Assert.StartsWith("p4 OK", (await client.ReadUntilTaggedAsync("p4"))[^1], StringComparison.Ordinal);
        await client.SendAsync("p5 APPEND INBOX {1000000}\r\n");
        Assert.StartsWith("+ ", await client.ReadLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_commands_and_wrong_state_are_bad()
    {
        await using var server = await ImapTestServer.StartAsync(maxBadCommands: 4);
        using var client = await server.ConnectRawAsync();
        await client.SendAsync("b1 FROBNICATE\r\nb2 SELECT INBOX\r\nb3 FETCH (\r\n");
        Assert.StartsWith("b1 BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("b2 BAD SELECT is not valid before login", await client.ReadLineAsync());
        Assert.StartsWith("b3 BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
        await client.SendAsync("b4 BOGUS\r\n");
        Assert.StartsWith("b4 BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
        Assert.StartsWith("* BYE", await client.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Null(await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_command_in_the_wrong_state_says_which_state_it_needs()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server);
        await client.SendAsync("w1 LOGIN a b\r\nw2 AUTHENTICATE PLAIN\r\nw3 FETCH 1 FLAGS\r\nw4 SELECT INBOX\r\nw5 ENABLE CONDSTORE\r\nw6 STARTTLS\r\n");
        Assert.Equal(["w1 BAD LOGIN is not valid after login"], await client.ReadUntilTaggedAsync("w1"));
        Assert.Equal(["w2 BAD AUTHENTICATE is not valid after login"], await client.ReadUntilTaggedAsync("w2"));
        Assert.Equal(["w3 BAD FETCH is not valid without a selected mailbox"], await client.ReadUntilTaggedAsync("w3"));
        Assert.StartsWith("w4 OK", (await client.ReadUntilTaggedAsync("w4"))[^1], StringComparison.Ordinal);

        // RFC 5161 §3.1: ENABLE only before a mailbox is selected.
        Assert.Equal(["w5 BAD ENABLE is not valid while a mailbox is selected"], await client.ReadUntilTaggedAsync("w5"));
        Assert.Equal(["w6 BAD STARTTLS is not valid after login"], await client.ReadUntilTaggedAsync("w6"));
    }

    [Fact]
    public async Task Commands_that_take_no_arguments_refuse_them_and_do_nothing()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server);
        await client.SendAsync("n0 SELECT INBOX\r\n");
        Assert.StartsWith("n0 OK", (await client.ReadUntilTaggedAsync("n0"))[^1], StringComparison.Ordinal);

        // RFC 9051 §9: CLOSE, UNSELECT, CHECK, NOOP, NAMESPACE and LOGOUT have no arguments; BAD, and the command does not run.
        await client.SendAsync("n1 NOOP x\r\nn2 CHECK x\r\nn3 NAMESPACE x\r\nn4 CLOSE x\r\nn5 UNSELECT x\r\nn6 LOGOUT x\r\nn7 UNSELECT\r\n");
        foreach (var (tag, name) in new[] { ("n1", "NOOP"), ("n2", "CHECK"), ("n3", "NAMESPACE"), ("n4", "CLOSE"), ("n5", "UNSELECT"), ("n6", "LOGOUT") })
        {
            Assert.Equal([$"{tag} BAD {name} takes no arguments"], await client.ReadUntilTaggedAsync(tag));
        }

        Assert.Equal(["n7 OK UNSELECT completed"], await client.ReadUntilTaggedAsync("n7"));
    }

    [Fact]
    public async Task Only_bad_commands_in_a_row_end_a_long_session()
    {
        await using var server = await ImapTestServer.StartAsync(maxBadCommands: 3);
        using var client = await LoginAsync(server);

        // A session that lives for days (IDLE) and now and then sends a command the server does not know is not a flood.
        for (var round = 0; round < 4; round++)
        {
            await client.SendAsync($"x{round} XLIST \"\" *\r\ny{round} BOGUS\r\nz{round} NOOP\r\n");
            Assert.StartsWith($"x{round} BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
            Assert.StartsWith($"y{round} BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
            Assert.Equal($"z{round} OK NOOP completed", await client.ReadLineAsync());
        }

        await client.SendAsync("b1 BOGUS\r\nb2 BOGUS\r\nb3 BOGUS\r\n");
        Assert.StartsWith("b1 BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
        Assert.StartsWith("b2 BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
        Assert.StartsWith("b3 BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
        Assert.StartsWith("* BYE", await client.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Null(await client.ReadLineAsync());
    }

    [Fact]
    public async Task Clear_text_login_is_disabled_when_a_secure_channel_is_required()
    {
        await using var server = await ImapTestServer.StartAsync(requireSecureChannel: true);
        using var client = await server.ConnectRawAsync();
        await client.SendAsync("c1 CAPABILITY\r\n");
        var lines = await client.ReadUntilTaggedAsync("c1");
        Assert.Contains("LOGINDISABLED", lines[0], StringComparison.Ordinal);
        Assert.Contains("STARTTLS", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("AUTH=PLAIN", lines[0], StringComparison.Ordinal);
        await client.SendAsync($"c2 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\n");
        Assert.StartsWith("c2 NO [PRIVACYREQUIRED]", await client.ReadLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_pipelined_after_starttls_are_never_run()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectRawAsync();
        await client.SendAsync("d1 STARTTLS\r\nd2 LOGIN " + ImapTestServer.User + " \"" + ImapTestServer.Password + "\"\r\n");
        Assert.StartsWith("d1 OK", await client.ReadLineAsync(), StringComparison.Ordinal);

        // The server closes instead of starting TLS with injected plaintext queued.
        var next = await client.ReadLineAsync();
        Assert.Null(next);
    }

    [Fact]
    public async Task Authenticate_plain_with_and_without_initial_response()
    {
        await using var server = await ImapTestServer.StartAsync();
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0" + ImapTestServer.User + "\0" + ImapTestServer.Password));
        using (var client = await server.ConnectRawAsync())
        {
            await client.SendAsync("e1 AUTHENTICATE PLAIN " + token + "\r\n");
            Assert.StartsWith("e1 OK", await client.ReadLineAsync(), StringComparison.Ordinal);
        }

        using (var client = await server.ConnectRawAsync())
        {
            await client.SendAsync("e2 AUTHENTICATE PLAIN\r\n");
            Assert.Equal("+ ", await client.ReadLineAsync());
            await client.SendAsync(token + "\r\n");
            Assert.StartsWith("e2 OK", await client.ReadLineAsync(), StringComparison.Ordinal);
        }

        using (var client = await server.ConnectRawAsync())
        {
            await client.SendAsync("e3 AUTHENTICATE PLAIN\r\n");
            Assert.Equal("+ ", await client.ReadLineAsync());
            await client.SendAsync("*\r\n");
            Assert.StartsWith("e3 BAD", await client.ReadLineAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Fetch_sections_partials_and_seen()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "From: a@example.test\r\nSubject: hello\r\nX-Other: 1\r\n\r\n0123456789\r\n");
        using var client = await LoginAsync(server);
        await client.SendAsync("f1 SELECT INBOX\r\n");
        var select = await client.ReadUntilTaggedAsync("f1");
        Assert.Contains("* 1 EXISTS", select);
        Assert.Contains(select, l => l.StartsWith("* OK [UIDVALIDITY ", StringComparison.Ordinal));
        Assert.Contains(select, l => l.StartsWith("* OK [HIGHESTMODSEQ ", StringComparison.Ordinal));
        Assert.StartsWith("f1 OK [READ-WRITE]", select[^1], StringComparison.Ordinal);

        await client.SendAsync("f2 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT]<2.5> FLAGS)\r\n");
        var peek = string.Join("\n", await client.ReadUntilTaggedAsync("f2"));
        Assert.Contains("BODY[HEADER.FIELDS (SUBJECT)] {18}\nSubject: hello", peek, StringComparison.Ordinal);
        Assert.Contains("BODY[TEXT]<2> {5}\n23456", peek, StringComparison.Ordinal);
        Assert.Contains("FLAGS (\\Recent)", peek, StringComparison.Ordinal); // this session is the first to see it

        await client.SendAsync("f3 FETCH 1 BODY[TEXT]\r\n");
        var read = string.Join("\n", await client.ReadUntilTaggedAsync("f3"));
        Assert.Contains("FLAGS (\\Seen \\Recent)", read, StringComparison.Ordinal);

        await client.SendAsync("f4 UID FETCH 1:* (RFC822.SIZE INTERNALDATE)\r\n");
        var uidFetch = await client.ReadUntilTaggedAsync("f4");
        Assert.Matches(@"^\* 1 FETCH \(UID \d+ RFC822\.SIZE \d+ INTERNALDATE ""\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}""\)$", uidFetch[0]);
    }

    [Fact]
    public async Task Esearch_searchres_and_condstore()
    {
        await using var server = await ImapTestServer.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            await server.DeliverAsync("INBOX", $"Subject: m{i}\r\n\r\nbody {i}\r\n");
        }

        using var client = await LoginAsync(server);
        await client.SendAsync("g0 ENABLE CONDSTORE\r\ng1 SELECT INBOX\r\n");
        Assert.Contains("* ENABLED CONDSTORE", await client.ReadUntilTaggedAsync("g0"));
        await client.ReadUntilTaggedAsync("g1");

        await client.SendAsync("g2 SEARCH RETURN (MIN MAX COUNT ALL) 2:4\r\n");
        var esearch = await client.ReadUntilTaggedAsync("g2");
        Assert.Equal("* ESEARCH (TAG \"g2\") MIN 2 MAX 4 ALL 2:4 COUNT 3", esearch[0]);

        await client.SendAsync("g3 SEARCH RETURN (SAVE) SUBJECT m3\r\ng4 FETCH $ (UID)\r\n");
        Assert.Equal("g3 OK SEARCH completed", (await client.ReadUntilTaggedAsync("g3"))[^1]);
        var saved = await client.ReadUntilTaggedAsync("g4");
        Assert.StartsWith("* 4 FETCH (UID ", saved[0], StringComparison.Ordinal);
        Assert.Equal(2, saved.Count);

        await client.SendAsync("g5 FETCH 1:* (MODSEQ)\r\n");
        var modseqLines = (await client.ReadUntilTaggedAsync("g5")).SkipLast(1);
        var modseq = modseqLines.Max(l => long.Parse(l.Split("MODSEQ (")[1].TrimEnd(')', ' '), System.Globalization.CultureInfo.InvariantCulture));
        await client.SendAsync("g6 STORE 1 +FLAGS (\\Flagged)\r\n");
        await client.ReadUntilTaggedAsync("g6");
        await client.SendAsync($"g7 STORE 1,2 (UNCHANGEDSINCE {modseq}) +FLAGS (\\Seen)\r\n");
        var conditional = await client.ReadUntilTaggedAsync("g7");
        Assert.Equal("g7 OK [MODIFIED 1] STORE completed", conditional[^1]);
        Assert.Contains(conditional, l => l.StartsWith("* 2 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Expunge_reports_sequence_numbers_and_uid_expunge_is_selective()
    {
        await using var server = await ImapTestServer.StartAsync();
        for (var i = 0; i < 4; i++)
        {
            await server.DeliverAsync("INBOX", $"Subject: m{i}\r\n\r\nbody\r\n", Postern.Store.MessageFlags.Deleted);
        }

        using var client = await LoginAsync(server);
        await client.SendAsync("h1 SELECT INBOX\r\nh2 UID SEARCH ALL\r\n");
        await client.ReadUntilTaggedAsync("h1");
        var uids = (await client.ReadUntilTaggedAsync("h2"))[0].Split(' ').Skip(2).ToList();
        await client.SendAsync($"h3 UID EXPUNGE {uids[1]}\r\n");
        var first = await client.ReadUntilTaggedAsync("h3");
        Assert.Equal(["* 2 EXPUNGE", "h3 OK EXPUNGE completed"], first);
        await client.SendAsync("h4 EXPUNGE\r\n");
        var rest = await client.ReadUntilTaggedAsync("h4");
        Assert.Equal(["* 3 EXPUNGE", "* 2 EXPUNGE", "* 1 EXPUNGE", "h4 OK EXPUNGE completed"], rest);
    }

    [Fact]
    public async Task List_extended_status_and_quota()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: x\r\n\r\nbody\r\n");
        using var client = await LoginAsync(server);
        await client.SendAsync("i1 LIST \"\" \"\"\r\n");
        Assert.Equal("* LIST (\\Noselect) \"/\" \"\"", (await client.ReadUntilTaggedAsync("i1"))[0]);
        await client.SendAsync("i2 LIST (SPECIAL-USE) \"\" * RETURN (STATUS (MESSAGES UNSEEN))\r\n");
        var special = await client.ReadUntilTaggedAsync("i2");
        Assert.Contains("* LIST (\\HasNoChildren \\Sent) \"/\" Sent", special);
        Assert.Contains("* STATUS Sent (MESSAGES 0 UNSEEN 0)", special);
        Assert.DoesNotContain(special, l => l.EndsWith(" INBOX", StringComparison.Ordinal));
        await client.SendAsync("i3 STATUS inbox (MESSAGES UIDNEXT SIZE)\r\n");
        Assert.Matches(@"^\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2 SIZE \d+\)$", (await client.ReadUntilTaggedAsync("i3"))[0]);
        await client.SendAsync("i4 GETQUOTAROOT INBOX\r\ni5 GETQUOTA \"\"\r\n");
        var quota = await client.ReadUntilTaggedAsync("i4");

        // No limit: no quota root (RFC 9208 §4.3), so no QUOTA response, whose resource list may not be empty.
        Assert.Equal(["* QUOTAROOT INBOX", "i4 OK GETQUOTAROOT completed"], quota);
        Assert.Equal("i5 NO [NONEXISTENT] No such quota root", (await client.ReadUntilTaggedAsync("i5"))[^1]);
        await server.Server.Store.Directory.SetQuotaAsync(ImapTestServer.User, 1 << 20, CancellationToken.None);
        await client.SendAsync("i6 GETQUOTAROOT INBOX\r\n");
        quota = await client.ReadUntilTaggedAsync("i6");
        Assert.Equal("* QUOTAROOT INBOX \"\"", quota[0]);
        Assert.Matches(@"^\* QUOTA """" \(STORAGE \d+ 1024\)$", quota[1]);
    }

    [Fact]
    public async Task Subscription_outlives_delete_and_lists_as_nonexistent()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server);
        await AllOkAsync(client, "s", 1, "CREATE Subs/Gone", "SUBSCRIBE Subs/Gone", "DELETE Subs/Gone", "SUBSCRIBE Subs/Later/");

        // RFC 3501 §6.3.6: the name stays subscribed; RFC 5258 §3.1: LIST (SUBSCRIBED) shows it \NonExistent.
        await client.SendAsync("s5 LIST (SUBSCRIBED) \"\" Subs/*\r\n");
        Assert.Equal(
            ["* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \"/\" Subs/Gone", "* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \"/\" Subs/Later", "s5 OK LIST completed"],
            await client.ReadUntilTaggedAsync("s5"));
        await client.SendAsync("s6 LSUB \"\" Subs/*\r\ns7 LIST \"\" Subs/*\r\n");
        Assert.Equal(["* LSUB (\\Noselect) \"/\" Subs/Gone", "* LSUB (\\Noselect) \"/\" Subs/Later", "s6 OK LSUB completed"], await client.ReadUntilTaggedAsync("s6"));
        Assert.Equal(["s7 OK LIST completed"], await client.ReadUntilTaggedAsync("s7"));

        // Creating the name again finds it subscribed; RENAME takes the subscriptions of the mailbox and its children along.
        await AllOkAsync(client, "s", 8, "CREATE Subs/Gone/Child", "SUBSCRIBE Subs/Gone/Child", "RENAME Subs/Gone Subs/Moved");

        await client.SendAsync("s11 LSUB \"\" Subs/*\r\n");
        Assert.Equal(
            ["* LSUB (\\Noselect) \"/\" Subs/Later", "* LSUB () \"/\" Subs/Moved", "* LSUB () \"/\" Subs/Moved/Child", "s11 OK LSUB completed"],
            await client.ReadUntilTaggedAsync("s11"));
        await client.SendAsync("s12 UNSUBSCRIBE Subs/Later\r\ns13 UNSUBSCRIBE Subs/Later\r\ns14 LSUB \"\" Subs/L*\r\n");
        Assert.Equal(["s12 OK UNSUBSCRIBE completed"], await client.ReadUntilTaggedAsync("s12"));
        Assert.Equal(["s13 OK UNSUBSCRIBE completed"], await client.ReadUntilTaggedAsync("s13"));
        Assert.Equal(["s14 OK LSUB completed"], await client.ReadUntilTaggedAsync("s14"));
    }

    [Fact]
    public async Task Lsub_percent_returns_an_unsubscribed_parent_as_noselect()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server);
        await AllOkAsync(client, "t", 1, "CREATE Top/test", "CREATE Top/test2/test", "CREATE Top/test3/test3",
            "SUBSCRIBE Top/test", "SUBSCRIBE Top/test2/test", "SUBSCRIBE Top/test3/test3");

        // RFC 3501 §6.3.9: Top/test2 is not subscribed, but stands in (\Noselect) for its subscribed child that "%" hides.
        await client.SendAsync("t7 LSUB \"\" Top/%\r\n");
        Assert.Equal(
            ["* LSUB () \"/\" Top/test", "* LSUB (\\Noselect) \"/\" Top/test2", "* LSUB (\\Noselect) \"/\" Top/test3", "t7 OK LSUB completed"],
            await client.ReadUntilTaggedAsync("t7"));

        // With "*" the children are returned themselves, so no parent is.
        await client.SendAsync("t8 LSUB \"\" Top/*\r\n");
        Assert.Equal(
            ["* LSUB () \"/\" Top/test", "* LSUB () \"/\" Top/test2/test", "* LSUB () \"/\" Top/test3/test3", "t8 OK LSUB completed"],
            await client.ReadUntilTaggedAsync("t8"));

        // A subscribed parent is listed as itself, selectable.
        await client.SendAsync("t9 SUBSCRIBE Top/test2\r\nt10 LSUB \"\" Top/test2\r\n");
        await client.ReadUntilTaggedAsync("t9");
        Assert.Equal(["* LSUB () \"/\" Top/test2", "t10 OK LSUB completed"], await client.ReadUntilTaggedAsync("t10"));
    }

    [Fact]
    public async Task Recursivematch_gives_childinfo_only_for_subscribed_descendants_not_returned()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server);
        await AllOkAsync(client, "u", 1, "CREATE Tree/A/A", "CREATE Tree/B/B", "CREATE Tree/B/C",
            "SUBSCRIBE Tree/A/A", "SUBSCRIBE Tree/B/B", "SUBSCRIBE Tree/B/C");

        // RFC 5258 §3.5: Tree/A is not subscribed; its subscribed child does not match the pattern.
        await client.SendAsync("u7 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" Tree/A\r\n");
        Assert.Equal(
            ["* LIST (\\HasChildren) \"/\" Tree/A (\"CHILDINFO\" (\"SUBSCRIBED\"))", "u7 OK LIST completed"],
            await client.ReadUntilTaggedAsync("u7"));

        // The child matches one of the patterns and is returned itself: no CHILDINFO for the parent.
        await client.SendAsync("u8 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Tree/A Tree/A/A)\r\n");
        Assert.Equal(["* LIST (\\HasNoChildren \\Subscribed) \"/\" Tree/A/A", "u8 OK LIST completed"], await client.ReadUntilTaggedAsync("u8"));
        await client.SendAsync("u9 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" Tree*A\r\n");
        Assert.Equal(["* LIST (\\HasNoChildren \\Subscribed) \"/\" Tree/A/A", "u9 OK LIST completed"], await client.ReadUntilTaggedAsync("u9"));

        // Tree/B/B is returned, Tree/B/C is not: the parent still carries CHILDINFO for the latter.
        await client.SendAsync("u10 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" Tree*B\r\n");
        Assert.Equal(
            ["* LIST (\\HasChildren) \"/\" Tree/B (\"CHILDINFO\" (\"SUBSCRIBED\"))", "* LIST (\\HasNoChildren \\Subscribed) \"/\" Tree/B/B", "u10 OK LIST completed"],
            await client.ReadUntilTaggedAsync("u10"));

        // Without RECURSIVEMATCH the unsubscribed parents are not returned at all.
        await client.SendAsync("u11 LIST (SUBSCRIBED) \"\" Tree/%\r\n");
        Assert.Equal(["u11 OK LIST completed"], await client.ReadUntilTaggedAsync("u11"));
    }

    [Fact]
    public async Task Append_with_binary_literal_and_multiappend()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server);
        const string One = "Subject: one\r\n\r\nbody 1\r\n";
        const string Two = "Subject: two\r\n\r\nbody 2\r\n";
        await client.SendAsync($"j1 APPEND INBOX (\\Seen) \"01-Jan-2020 10:00:00 +0100\" {{{One.Length}+}}\r\n{One} ~{{{Two.Length}+}}\r\n{Two}\r\n");
        var reply = (await client.ReadUntilTaggedAsync("j1"))[^1];
        Assert.Matches(@"^j1 OK \[APPENDUID \d+ 1:2\] APPEND completed$", reply);
        await client.SendAsync("j2 APPEND Nowhere {1+}\r\nx\r\n");
        Assert.StartsWith("j2 NO [TRYCREATE]", await client.ReadLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closed_connection_mid_literal_ends_the_session_quietly()
    {
        await using var server = await ImapTestServer.StartAsync();
        using (var client = await LoginAsync(server))
        {
            await client.SendAsync("k1 APPEND INBOX {100+}\r\npartial");
        }

        // The server is still healthy for the next client.
        using var next = await server.ConnectRawAsync();
        await next.SendAsync("k2 NOOP\r\n");
        Assert.Equal("k2 OK NOOP completed", await next.ReadLineAsync());
    }

    [Fact]
    public async Task An_item_named_twice_in_a_fetch_is_answered_once()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await LoginAsync(server);
        await AllOkAsync(client, "d", 1, "APPEND INBOX (\\Flagged) {5+}\r\nabcde", "SELECT INBOX");
        await client.SendAsync("d3 FETCH 1 (FLAGS UID FLAGS RFC822.SIZE UID)\r\nd4 UID FETCH 1 (UID FLAGS)\r\n");
        Assert.Equal("* 1 FETCH (FLAGS (\\Flagged \\Recent) UID 1 RFC822.SIZE 5)", (await client.ReadUntilTaggedAsync("d3"))[0]);
        Assert.Equal("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))", (await client.ReadUntilTaggedAsync("d4"))[0]);
    }

    [Fact]
    public async Task Status_of_the_selected_mailbox_counts_what_another_session_did_and_tells_this_one_first()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var reader = await LoginAsync(server);
        using var writer = await LoginAsync(server);
        await AllOkAsync(writer, "w", 1, "APPEND INBOX {5+}\r\nabcde", "APPEND INBOX (\\Seen) {3+}\r\nxyz");
        await AllOkAsync(reader, "r", 1, "SELECT INBOX");

        // The other session adds a message, marks one deleted, and expunges the other.
        await AllOkAsync(writer, "w", 3, "SELECT INBOX", "APPEND INBOX {4+}\r\nwxyz", "STORE 1 +FLAGS (\\Deleted \\Seen)", "STORE 2 +FLAGS (\\Deleted)", "UID EXPUNGE 2");
        await reader.SendAsync("r2 STATUS INBOX (MESSAGES UNSEEN DELETED SIZE UIDNEXT HIGHESTMODSEQ)\r\n");
        var lines = await reader.ReadUntilTaggedAsync("r2");

        // The session learns the changes (EXPUNGE, EXISTS, FLAGS) and the counts are those of the mailbox now: messages
        // 1 (deleted, seen, 5 octets) and 3 (4 octets, unseen).
        Assert.Contains("* 2 EXPUNGE", lines);
        Assert.Contains(lines, l => l.StartsWith("* 1 FETCH (FLAGS (", StringComparison.Ordinal) && l.Contains("\\Deleted", StringComparison.Ordinal));
        var status = Assert.Single(lines, l => l.StartsWith("* STATUS", StringComparison.Ordinal));
        Assert.StartsWith("* STATUS INBOX (", status, StringComparison.Ordinal);
        foreach (var count in new[] { "MESSAGES 2", "UNSEEN 1", "DELETED 1", "SIZE 9", "UIDNEXT 4" })
        {
            Assert.Matches(@"[( ]" + count + @"[ )]", status);
        }

        Assert.StartsWith("r2 OK", lines[^1], StringComparison.Ordinal);

        // The same counts as for a mailbox that is not selected (counted in the store).
        await AllOkAsync(writer, "w", 8, "UNSELECT");
        await writer.SendAsync("w9 STATUS INBOX (MESSAGES UNSEEN DELETED SIZE UIDNEXT HIGHESTMODSEQ)\r\n");
        Assert.Equal(status, Assert.Single(await writer.ReadUntilTaggedAsync("w9"), l => l.StartsWith("* STATUS", StringComparison.Ordinal)));
    }
}

public sealed class ImapQResyncTests
{
    [Fact]
    public async Task Qresync_select_reports_vanished_and_changed_messages()
    {
        await using var server = await ImapTestServer.StartAsync();
        var uids = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            uids.Add(await server.DeliverAsync("INBOX", $"Subject: q{i}\r\n\r\nbody\r\n"));
        }

        string uidValidity;
        long modseq;
        using (var first = await server.ConnectRawAsync())
        {
            await first.SendAsync($"q1 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\nq2 ENABLE QRESYNC\r\nq3 SELECT INBOX\r\n");
            await first.ReadUntilTaggedAsync("q1");
            Assert.Contains("* ENABLED QRESYNC", await first.ReadUntilTaggedAsync("q2"));
            var select = await first.ReadUntilTaggedAsync("q3");
            uidValidity = select.Single(l => l.StartsWith("* OK [UIDVALIDITY ", StringComparison.Ordinal)).Split(' ', ']')[3];
            modseq = long.Parse(select.Single(l => l.StartsWith("* OK [HIGHESTMODSEQ ", StringComparison.Ordinal)).Split(' ', ']')[3], System.Globalization.CultureInfo.InvariantCulture);

            // With QRESYNC on, an expunge is reported as VANISHED, not EXPUNGE (RFC 7162 §3.2.10).
            await first.SendAsync($"q4 UID STORE {uids[1]} +FLAGS.SILENT (\\Deleted)\r\nq5 EXPUNGE\r\n");
            await first.ReadUntilTaggedAsync("q4");
            Assert.Equal([$"* VANISHED {uids[1]}", "q5 OK EXPUNGE completed"], await first.ReadUntilTaggedAsync("q5"));
            await first.SendAsync($"q6 UID STORE {uids[2]} +FLAGS.SILENT (\\Flagged)\r\n");
            await first.ReadUntilTaggedAsync("q6");
        }

        using var second = await server.ConnectRawAsync();
        await second.SendAsync($"r1 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\nr2 ENABLE QRESYNC\r\n");
        await second.ReadUntilTaggedAsync("r1");
        await second.ReadUntilTaggedAsync("r2");
        // RFC 7162 §7: known-uids are explicit UIDs ("*" is not allowed).
        await second.SendAsync($"r3 SELECT INBOX (QRESYNC ({uidValidity} {modseq} 1:{uids[^1]}))\r\n");
        var resync = await second.ReadUntilTaggedAsync("r3");
        Assert.Contains($"* VANISHED (EARLIER) {uids[1]}", resync);
        Assert.Contains(resync, l => l.StartsWith($"* 2 FETCH (UID {uids[2]} FLAGS (\\Deleted \\Flagged)".Replace("\\Deleted ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.DoesNotContain(resync, l => l.Contains($"UID {uids[0]} ", StringComparison.Ordinal));

        await second.SendAsync($"r4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)\r\n");
        var changed = await second.ReadUntilTaggedAsync("r4");
        Assert.Equal($"* VANISHED (EARLIER) {uids[1]}", changed[0]);
        Assert.Equal(3, changed.Count);

        // VANISHED without QRESYNC-style UID FETCH is a syntax error.
        await second.SendAsync($"r5 FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)\r\n");
        Assert.StartsWith("r5 BAD", await second.ReadLineAsync(), StringComparison.Ordinal);
    }
}

public sealed class ImapSessionBehaviourTests
{
    private static async Task<(RawImapClient Client, List<string> Select)> SelectInboxWithReplyAsync(ImapTestServer server, string prefix)
    {
        var client = await server.ConnectRawAsync();
        await client.SendAsync($"{prefix}1 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\n{prefix}2 SELECT INBOX\r\n");
        await client.ReadUntilTaggedAsync(prefix + "1");
        return (client, await client.ReadUntilTaggedAsync(prefix + "2"));
    }

    private static async Task<RawImapClient> SelectInboxAsync(ImapTestServer server, string prefix)
    {
        var client = await server.ConnectRawAsync();
        await client.SendAsync($"{prefix}1 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\n{prefix}2 SELECT INBOX\r\n");
        await client.ReadUntilTaggedAsync(prefix + "1");
        await client.ReadUntilTaggedAsync(prefix + "2");
        return client;
    }

    [Fact]
    public async Task Binary_fetch_decodes_the_transfer_encoding()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX",
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n" +
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--b--\r\n");
        using var client = await SelectInboxAsync(server, "b");
        await client.SendAsync("b3 FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[1])\r\n");
        var lines = await client.ReadUntilTaggedAsync("b3");
        var text = string.Join("\n", lines);
        Assert.Contains("BINARY.SIZE[2] 4", text, StringComparison.Ordinal);
        Assert.Contains("BINARY[2] ~{4}\n", text, StringComparison.Ordinal);
        Assert.Contains("BINARY[1] {5}\ncafé", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_keyword_created_by_a_silent_store_is_announced_with_flags_but_not_echoed()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: a\r\n\r\nbody\r\n");
        using var client = await SelectInboxAsync(server, "k");

        // .SILENT suppresses only the FETCH; the client must still learn the keyword it created (found by imaptest's
        // own_flags stress: "STORE didn't create keyword").
        await client.SendAsync("k3 STORE 1 +FLAGS.SILENT ($Label1)\r\n");
        Assert.Equal(["* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)", "k3 OK STORE completed"], await client.ReadUntilTaggedAsync("k3"));

        // Known keywords are not announced again; one only removed is announced too, as Dovecot does.
        await client.SendAsync("k4 STORE 1 -FLAGS.SILENT ($Label1)\r\nk5 STORE 1 +FLAGS.SILENT ($Label1)\r\n");
        Assert.Equal(["k4 OK STORE completed", "k5 OK STORE completed"], await client.ReadUntilTaggedAsync("k5"));
        await client.SendAsync("k6 STORE 1 -FLAGS ($Label2)\r\n");
        var removal = await client.ReadUntilTaggedAsync("k6");
        Assert.Equal(["* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 $Label2)", "k6 OK STORE completed"], [removal[0], removal[^1]]);
        Assert.Matches(@"^\* 1 FETCH \(FLAGS \((\\Recent )?\$Label1\)\)$", Assert.Single(removal[1..^1]));
    }

    [Fact]
    public async Task A_keyword_no_message_carries_any_more_is_still_listed_when_the_mailbox_is_selected_again()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: a\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "Subject: b\r\n\r\nbody\r\n");
        using var client = await SelectInboxAsync(server, "k");
        await client.SendAsync("k3 STORE 1 +FLAGS.SILENT ($Gone)\r\nk4 STORE 2 +FLAGS.SILENT ($Cleared)\r\nk5 STORE 2 -FLAGS.SILENT ($Cleared)\r\n" +
            "k6 STORE 1 +FLAGS.SILENT (\\Deleted)\r\nk7 EXPUNGE\r\n");
        Assert.Equal("k7 OK EXPUNGE completed", (await client.ReadUntilTaggedAsync("k7"))[^1]);

        // Dovecot keeps every keyword it has seen in the mailbox; dropping one from FLAGS makes a client that saw it
        // once (imaptest's own_flags stress) think a later STORE created it anew and give it a second owner.
        await client.SendAsync("k8 SELECT INBOX\r\n");
        var select = await client.ReadUntilTaggedAsync("k8");
        Assert.Contains("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Cleared $Gone)", select);

        // So a STORE of either announces nothing new.
        await client.SendAsync("k9 STORE 1 +FLAGS.SILENT ($Gone $Cleared)\r\n");
        Assert.Equal(["k9 OK STORE completed"], await client.ReadUntilTaggedAsync("k9"));
    }

    [Fact]
    public async Task A_store_on_a_message_another_session_expunged_is_kept_in_this_view_until_the_expunge_is_reported()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: a\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "Subject: b\r\n\r\nbody\r\n");
        using var watcher = await SelectInboxAsync(server, "w");
        using var actor = await SelectInboxAsync(server, "a");
        await actor.SendAsync("a3 STORE 1 +FLAGS.SILENT (\\Deleted)\r\na4 EXPUNGE\r\n");
        await actor.ReadUntilTaggedAsync("a4");

        // RFC 2180 §4.2.3: the watcher still sees message 1 and its STORE succeeds there (imaptest's stress counts an
        // OK STORE that echoes unchanged flags as an error); the EXPUNGE comes at the next command that may carry it.
        await watcher.SendAsync("w3 STORE 1:2 +FLAGS (\\Flagged)\r\n");
        var store = await watcher.ReadUntilTaggedAsync("w3");
        Assert.Equal("w3 OK STORE completed", store[^1]);
        Assert.Contains(store, l => l.StartsWith("* 1 FETCH (FLAGS (\\Flagged", StringComparison.Ordinal));
        Assert.Contains(store, l => l.StartsWith("* 2 FETCH (FLAGS (\\Flagged", StringComparison.Ordinal));
        Assert.DoesNotContain(store, l => l.EndsWith("EXPUNGE", StringComparison.Ordinal));

        await watcher.SendAsync("w4 NOOP\r\n");
        Assert.Equal(["* 1 EXPUNGE", "w4 OK NOOP completed"], await watcher.ReadUntilTaggedAsync("w4"));
    }

    [Fact]
    public async Task Changes_from_another_session_are_reported_at_the_next_command()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: a\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "Subject: b\r\n\r\nbody\r\n");
        using var watcher = await SelectInboxAsync(server, "w");
        using var actor = await SelectInboxAsync(server, "a");

        await actor.SendAsync("a3 STORE 2 +FLAGS (\\Flagged)\r\na4 STORE 1 +FLAGS.SILENT (\\Deleted)\r\na5 EXPUNGE\r\n");
        await actor.ReadUntilTaggedAsync("a5");
        await server.DeliverAsync("INBOX", "Subject: c\r\n\r\nbody\r\n");

        // During FETCH no EXPUNGE may be sent (RFC 3501 §7.4.1), so the watcher first learns only flags and the new message.
        await watcher.SendAsync("w3 FETCH 1:* (UID)\r\n");
        var fetch = await watcher.ReadUntilTaggedAsync("w3");
        Assert.DoesNotContain(fetch, l => l.EndsWith("EXPUNGE", StringComparison.Ordinal));
        Assert.Contains(fetch, l => l.StartsWith("* 2 FETCH (FLAGS (\\Flagged \\Recent)", StringComparison.Ordinal));
        Assert.Contains("* 3 EXISTS", fetch);

        await watcher.SendAsync("w4 NOOP\r\n");
        Assert.Equal(["* 1 EXPUNGE", "w4 OK NOOP completed"], await watcher.ReadUntilTaggedAsync("w4"));
    }

    [Fact]
    public async Task Sessions_sharing_a_mailbox_list_each_see_their_own_and_each_others_changes()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: a\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "Subject: b\r\n\r\nbody\r\n");
        using var first = await SelectInboxAsync(server, "f");
        using var second = await SelectInboxAsync(server, "s");

        // The second session opened the same list; the first one's STORE must not leak into it except as an update.
        await first.SendAsync("f3 STORE 1 +FLAGS (\\Seen)\r\n");
        Assert.Contains(await first.ReadUntilTaggedAsync("f3"), l => l.StartsWith("* 1 FETCH (FLAGS (\\Seen \\Recent)", StringComparison.Ordinal));
        await second.SendAsync("s3 NOOP\r\n");
        Assert.Contains(await second.ReadUntilTaggedAsync("s3"), l => l.StartsWith("* 1 FETCH (FLAGS (\\Seen) UID", StringComparison.Ordinal));

        // A message appended and expunged between two of the first session's commands is never announced to it.
        await server.DeliverAsync("INBOX", "Subject: brief\r\n\r\nbody\r\n");
        for (var attempt = 0; ; attempt++)
        {
            // The second session learns of the new message at its next command once the change feed has told it.
            await second.SendAsync($"n{attempt} NOOP\r\n");
            if ((await second.ReadUntilTaggedAsync($"n{attempt}")).Contains("* 3 EXISTS") || attempt == 50)
            {
                break;
            }

            await Task.Delay(20);
        }

        await second.SendAsync("s4 UID STORE 3 +FLAGS.SILENT (\\Deleted)\r\ns5 UID EXPUNGE 3\r\n");
        await second.ReadUntilTaggedAsync("s5");
        await first.SendAsync("f4 NOOP\r\n");
        Assert.Equal(["f4 OK NOOP completed"], await first.ReadUntilTaggedAsync("f4"));

        // A third session selecting now gets a fresh list with both messages and the flag.
        using var third = await SelectInboxAsync(server, "t");
        await third.SendAsync("t3 FETCH 1:* (FLAGS)\r\n");
        var fetch = await third.ReadUntilTaggedAsync("t3");
        Assert.Equal(3, fetch.Count);
        Assert.StartsWith("* 1 FETCH (FLAGS (\\Seen))", fetch[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recent_goes_to_the_first_read_write_session_only()
    {
        // RFC 3501 §2.3.2: \Recent for the first session told of a message; EXAMINE looks without taking it (§6.3.2).
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: 1\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "Subject: 2\r\n\r\nbody\r\n");
        var (first, firstSelect) = await SelectInboxWithReplyAsync(server, "a");
        using var firstClient = first;
        Assert.Contains("* 2 RECENT", firstSelect);
        await first.SendAsync("a3 STORE 1 +FLAGS.SILENT (\\Seen)\r\na4 SEARCH RECENT\r\na5 SEARCH NEW\r\na6 SEARCH OLD\r\n");
        await first.ReadUntilTaggedAsync("a3");
        Assert.Equal(["* SEARCH 1 2", "a4 OK SEARCH completed"], await first.ReadUntilTaggedAsync("a4"));
        Assert.Equal(["* SEARCH 2", "a5 OK SEARCH completed"], await first.ReadUntilTaggedAsync("a5"));
        Assert.Equal(["* SEARCH", "a6 OK SEARCH completed"], await first.ReadUntilTaggedAsync("a6"));

        var (second, secondSelect) = await SelectInboxWithReplyAsync(server, "b");
        using var secondClient = second;
        Assert.Contains("* 0 RECENT", secondSelect);

        await server.DeliverAsync("INBOX", "Subject: 3\r\n\r\nbody\r\n");
        using var looker = await ImapTranscriptTests.LoginAsync(server);
        await looker.SendAsync("c1 EXAMINE INBOX\r\nc2 FETCH 3 FLAGS\r\nc3 STATUS Sent (RECENT)\r\n");
        Assert.Contains("* 1 RECENT", await looker.ReadUntilTaggedAsync("c1"));
        Assert.Equal(["* 3 FETCH (FLAGS (\\Recent))", "c2 OK FETCH completed"], await looker.ReadUntilTaggedAsync("c2"));
        await looker.ReadUntilTaggedAsync("c3");
        using var outsider = await ImapTranscriptTests.LoginAsync(server);
        await outsider.SendAsync("d1 STATUS INBOX (RECENT)\r\n");
        Assert.Equal("* STATUS INBOX (RECENT 1)", (await outsider.ReadUntilTaggedAsync("d1"))[0]);

        // The second session is the first read-write one to hear of message 3; the first session keeps its two.
        await second.SendAsync("b3 NOOP\r\n");
        Assert.Equal(["* 3 EXISTS", "* 1 RECENT", "b3 OK NOOP completed"], await second.ReadUntilTaggedAsync("b3"));
        await first.SendAsync("a7 NOOP\r\n");
        Assert.Equal(["* 3 EXISTS", "* 2 RECENT", "a7 OK NOOP completed"], await first.ReadUntilTaggedAsync("a7"));
        await outsider.SendAsync("d2 STATUS INBOX (RECENT)\r\n");
        Assert.Equal("* STATUS INBOX (RECENT 0)", (await outsider.ReadUntilTaggedAsync("d2"))[0]);
    }

    [Fact]
    public async Task Sequence_numbers_past_the_end_are_bad_but_uids_are_not()
    {
        await using var server = await ImapTestServer.StartAsync();
        await server.DeliverAsync("INBOX", "Subject: only\r\n\r\nbody\r\n");
        using var client = await SelectInboxAsync(server, "s");
        await client.SendAsync("s3 FETCH 2 FLAGS\r\ns4 STORE 1:3 +FLAGS (\\Seen)\r\ns5 UID FETCH 99 FLAGS\r\ns6 FETCH 1:* FLAGS\r\n");
        Assert.Equal("s3 BAD Invalid message sequence number", await client.ReadLineAsync());
        Assert.Equal("s4 BAD Invalid message sequence number", await client.ReadLineAsync());
        Assert.Equal("s5 OK FETCH completed", await client.ReadLineAsync());
        Assert.Equal(["* 1 FETCH (FLAGS (\\Recent))", "s6 OK FETCH completed"], await client.ReadUntilTaggedAsync("s6"));

        // An empty mailbox has no "*" either (RFC 3501 §9, as Dovecot answers); "UID FETCH 1:*" is still fine.
        await client.SendAsync("s7 STORE 1 +FLAGS.SILENT (\\Deleted)\r\ns8 EXPUNGE\r\n");
        Assert.Equal("s8 OK EXPUNGE completed", (await client.ReadUntilTaggedAsync("s8"))[^1]);
        await client.SendAsync("s9 FETCH * FLAGS\r\ns10 FETCH 1:* FLAGS\r\ns11 UID FETCH 1:* FLAGS\r\n");
        Assert.Equal("s9 BAD Invalid message sequence number", await client.ReadLineAsync());
        Assert.Equal("s10 BAD Invalid message sequence number", await client.ReadLineAsync());
        Assert.Equal("s11 OK FETCH completed", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Long_uid_sets_are_accepted()
    {
        await using var server = await ImapTestServer.StartAsync();
        var uid = await server.DeliverAsync("INBOX", "Subject: one\r\n\r\nbody\r\n");
        using var client = await SelectInboxAsync(server, "u");
        var set = string.Join(',', Enumerable.Range(0, 5000).Select(i => (uid + 2 + (2 * i)).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(set.Length > 16_000);
        await client.SendAsync($"u3 UID FETCH {uid},{set} (FLAGS)\r\n");
        var lines = await client.ReadUntilTaggedAsync("u3");
        Assert.Equal($"* 1 FETCH (UID {uid} FLAGS (\\Recent))", lines[0]);
        Assert.Equal("u3 OK FETCH completed", lines[1]);
    }

    [Fact]
    public async Task Idle_session_is_logged_out_after_the_timeout()
    {
        await using var server = await ImapTestServer.StartAsync(idleTimeoutSeconds: 1);
        using var client = await server.ConnectRawAsync();
        Assert.Equal("* BYE Autologout; idle for too long", await client.ReadLineAsync());
        Assert.Null(await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_command_trickled_a_byte_at_a_time_before_login_is_cut_off_at_the_idle_timeout()
    {
        await using var server = await ImapTestServer.StartAsync(idleTimeoutSeconds: 2);
        using var client = await server.ConnectRawAsync();
        var closed = client.ReadLineAsync(TimeSpan.FromSeconds(60));

        // Slowloris: each byte comes well within the idle timeout, but the command never ends. Before login the timeout
        // bounds the whole command, so the connection goes long before the client runs out of bytes.
        var trickle = "a LOGIN " + new string('x', 120);
        foreach (var octet in trickle)
        {
            if (closed.IsCompleted)
            {
                break;
            }

            try
            {
                await client.SendAsync(octet.ToString());
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(closed, Task.Delay(250));
        }

        Assert.True(closed.IsCompleted, "the server still waited for the command after " + trickle.Length + " octets over 30 seconds");
        Assert.Equal("* BYE Autologout; idle for too long", await closed);
    }
}

public sealed class ImapLimitsEndToEndTests
{
    [Fact]
    public async Task Repeated_login_failures_end_the_connection()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await server.ConnectRawAsync();
        for (var i = 1; i <= 3; i++)
        {
            await client.SendAsync($"x{i} LOGIN {ImapTestServer.User} wrong{i}\r\n");
            Assert.StartsWith($"x{i} NO [AUTHENTICATIONFAILED]", await client.ReadLineAsync(), StringComparison.Ordinal);
        }

        Assert.Equal("* BYE Too many authentication failures", await client.ReadLineAsync());
        Assert.Null(await client.ReadLineAsync());
    }

    [Fact]
    public async Task Keywords_per_mailbox_are_bounded_by_the_virtual_server_setting()
    {
        await using var server = await ImapTestServer.StartAsync(settings: new Dictionary<string, string> { [ImapDefaults.MaxKeywordsSetting] = "3" });
        await server.DeliverAsync("INBOX", "Subject: one\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "Subject: two\r\n\r\nbody\r\n");
        using var client = await server.ConnectRawAsync();
        await client.SendAsync($"k1 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\nk2 SELECT INBOX\r\n");
        Assert.StartsWith("k1 OK", (await client.ReadUntilTaggedAsync("k1"))[^1], StringComparison.Ordinal);
        Assert.Contains(@"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted", await client.ReadUntilTaggedAsync("k2"));

        await client.SendAsync("k3 STORE 1 +FLAGS (alpha beta)\r\n");
        Assert.StartsWith("k3 OK", (await client.ReadUntilTaggedAsync("k3"))[^1], StringComparison.Ordinal);
        await client.SendAsync("k4 STORE 2 +FLAGS (gamma delta)\r\n");
        Assert.StartsWith("k4 NO [LIMIT]", (await client.ReadUntilTaggedAsync("k4"))[^1], StringComparison.Ordinal);
        await client.SendAsync("k5 STORE 2 +FLAGS (gamma alpha)\r\n");
        Assert.StartsWith("k5 OK", (await client.ReadUntilTaggedAsync("k5"))[^1], StringComparison.Ordinal);

        // Full: the keywords in use can still be set, and PERMANENTFLAGS no longer offers new ones.
        await client.SendAsync("k6 STORE 1 +FLAGS (gamma)\r\nk7 SELECT INBOX\r\n");
        Assert.StartsWith("k6 OK", (await client.ReadUntilTaggedAsync("k6"))[^1], StringComparison.Ordinal);
        Assert.Contains(@"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft)] Flags permitted", await client.ReadUntilTaggedAsync("k7"));
        await client.SendAsync("k8 APPEND INBOX (a b c d) {4+}\r\nx\r\n\r\n");
        Assert.StartsWith("k8 NO [LIMIT]", (await client.ReadUntilTaggedAsync("k8"))[^1], StringComparison.Ordinal);

        // Keywords no message carries any more are still listed at SELECT but no longer count: new ones may come.
        await client.SendAsync("k9 STORE 1:2 -FLAGS (alpha gamma)\r\nk10 SELECT INBOX\r\n");
        Assert.StartsWith("k9 OK", (await client.ReadUntilTaggedAsync("k9"))[^1], StringComparison.Ordinal);
        var reselect = await client.ReadUntilTaggedAsync("k10");
        Assert.Contains(@"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft alpha beta gamma)", reselect);
        Assert.Contains(@"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted", reselect);
        await client.SendAsync("k11 STORE 2 +FLAGS (delta)\r\n");
        Assert.StartsWith("k11 OK", (await client.ReadUntilTaggedAsync("k11"))[^1], StringComparison.Ordinal);

        // APPEND counts the target mailbox's keywords as STORE does: beta and delta are in use, so one more fits, two not.
        await client.SendAsync("k12 APPEND INBOX (epsilon zeta) {4+}\r\nx\r\n\r\nk13 APPEND INBOX (epsilon beta) {4+}\r\nx\r\n\r\n");
        Assert.StartsWith("k12 NO [LIMIT]", (await client.ReadUntilTaggedAsync("k12"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("k13 OK", (await client.ReadUntilTaggedAsync("k13"))[^1], StringComparison.Ordinal);

        // A keyword longer than imap.max-keyword-length is not created, by STORE or APPEND; removing one is fine.
        var overlong = new string('k', 129);
        await client.SendAsync($"k14 STORE 1 +FLAGS ({overlong})\r\nk15 APPEND INBOX ({overlong}) {{4+}}\r\nx\r\n\r\nk16 STORE 1 -FLAGS ({overlong})\r\n");
        Assert.StartsWith("k14 NO [LIMIT] Keyword too long", (await client.ReadUntilTaggedAsync("k14"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("k15 NO [LIMIT] Keyword too long", (await client.ReadUntilTaggedAsync("k15"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("k16 OK", (await client.ReadUntilTaggedAsync("k16"))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_keyword_limit_counts_what_the_mailbox_carries_in_the_store_not_what_one_session_saw()
    {
        await using var server = await ImapTestServer.StartAsync(settings: new Dictionary<string, string> { [ImapDefaults.MaxKeywordsSetting] = "3" });
        await server.DeliverAsync("INBOX", "Subject: one\r\n\r\nbody\r\n");
        await server.DeliverAsync("INBOX", "Subject: two\r\n\r\nbody\r\n");
        using var first = await ImapTranscriptTests.LoginAsync(server);
        using var second = await ImapTranscriptTests.LoginAsync(server);
        await first.SendAsync("f1 SELECT INBOX\r\n");
        await first.ReadUntilTaggedAsync("f1");
        await second.SendAsync("s1 SELECT INBOX\r\n");
        await second.ReadUntilTaggedAsync("s1");

        // Two sessions together cannot put more keywords in use than the mailbox's limit.
        await first.SendAsync("f2 STORE 1 +FLAGS (alpha beta)\r\n");
        Assert.StartsWith("f2 OK", (await first.ReadUntilTaggedAsync("f2"))[^1], StringComparison.Ordinal);
        await second.SendAsync("s2 STORE 2 +FLAGS (gamma delta)\r\n");
        Assert.StartsWith("s2 NO [LIMIT]", (await second.ReadUntilTaggedAsync("s2"))[^1], StringComparison.Ordinal);

        // Keywords removed no longer count, without a new SELECT.
        await first.SendAsync("f3 STORE 1 -FLAGS (alpha beta)\r\nf4 STORE 1 +FLAGS (gamma delta epsilon)\r\n");
        Assert.StartsWith("f3 OK", (await first.ReadUntilTaggedAsync("f3"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("f4 OK", (await first.ReadUntilTaggedAsync("f4"))[^1], StringComparison.Ordinal);
        await second.SendAsync("s3 STORE 2 +FLAGS (zeta)\r\ns4 STORE 2 +FLAGS (gamma)\r\n");
        Assert.StartsWith("s3 NO [LIMIT]", (await second.ReadUntilTaggedAsync("s3"))[^1], StringComparison.Ordinal);
        Assert.StartsWith("s4 OK", (await second.ReadUntilTaggedAsync("s4"))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mailbox_names_depth_and_count_are_bounded_by_the_virtual_server_settings()
    {
        await using var server = await ImapTestServer.StartAsync(settings: new Dictionary<string, string>
        {
            [ImapDefaults.MaxMailboxNameLengthSetting] = "20",
            [ImapDefaults.MaxMailboxDepthSetting] = "3",
            [ImapDefaults.MaxMailboxesSetting] = "10",
        });
        using var client = await server.ConnectRawAsync();
        await client.SendAsync($"n1 LOGIN {ImapTestServer.User} \"{ImapTestServer.Password}\"\r\n");
        Assert.StartsWith("n1 OK", (await client.ReadUntilTaggedAsync("n1"))[^1], StringComparison.Ordinal);

        async Task<string> Command(string tag, string command)
        {
            await client.SendAsync($"{tag} {command}\r\n");
            return (await client.ReadUntilTaggedAsync(tag))[^1];
        }

        Assert.StartsWith("n2 NO [CANNOT] Mailbox name too long", await Command("n2", "CREATE " + new string('x', 21)), StringComparison.Ordinal);
        Assert.StartsWith("n3 NO [CANNOT] Mailbox hierarchy too deep", await Command("n3", "CREATE a/b/c/d"), StringComparison.Ordinal);
        Assert.StartsWith("n4 OK", await Command("n4", "CREATE a/b/c"), StringComparison.Ordinal);
        Assert.StartsWith("n5 NO [CANNOT] Mailbox hierarchy too deep", await Command("n5", "RENAME a x/a"), StringComparison.Ordinal);
        Assert.StartsWith("n6 OK", await Command("n6", "CREATE e"), StringComparison.Ordinal);

        // INBOX and the five special-use mailboxes, a, a/b, a/b/c and e: the tenth mailbox was the last one.
        Assert.StartsWith("n7 NO [LIMIT]", await Command("n7", "CREATE f"), StringComparison.Ordinal);
        Assert.StartsWith("n8 NO [ALREADYEXISTS]", await Command("n8", "CREATE e"), StringComparison.Ordinal);
        Assert.StartsWith("n9 OK", await Command("n9", "DELETE e"), StringComparison.Ordinal);
        Assert.StartsWith("n10 OK", await Command("n10", "CREATE f"), StringComparison.Ordinal);

        // Subscriptions may name mailboxes that do not exist; the same limits hold.
        Assert.StartsWith("n11 NO [CANNOT] Mailbox name too long", await Command("n11", "SUBSCRIBE " + new string('y', 21)), StringComparison.Ordinal);
        // The six default mailboxes are subscribed: four more names fill the list.
        for (var i = 0; i < 4; i++)
        {
            Assert.StartsWith($"s{i} OK", await Command($"s{i}", $"SUBSCRIBE gone{i}"), StringComparison.Ordinal);
        }

        Assert.StartsWith("n12 NO [LIMIT]", await Command("n12", "SUBSCRIBE gone4"), StringComparison.Ordinal);
        Assert.StartsWith("n13 OK", await Command("n13", "SUBSCRIBE gone3"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Large_messages_stream_back_intact()
    {
        await using var server = await ImapTestServer.StartAsync();
        var body = string.Concat(Enumerable.Range(0, 12_000).Select(i => $"line {i:D6} of a large message\r\n"));
        await server.DeliverAsync("INBOX", "Subject: big\r\n\r\n" + body);
        using var client = await server.ConnectAsync();
        await client.Inbox.OpenAsync(MailKit.FolderAccess.ReadOnly);
        var message = await client.Inbox.GetMessageAsync(0);
        Assert.Equal(body, message.TextBody?.ReplaceLineEndings("\r\n"));
    }

    [Fact]
    public async Task A_message_without_a_header_is_stored_and_fetched_as_all_body()
    {
        await using var server = await ImapTestServer.StartAsync();
        using var client = await ImapTranscriptTests.LoginAsync(server);
        await client.SendAsync("h1 APPEND INBOX {3+}\r\nabc\r\nh2 SELECT INBOX\r\nh3 FETCH 1 (ENVELOPE BODYSTRUCTURE PREVIEW BODY.PEEK[TEXT])\r\nh4 SEARCH TEXT abc\r\nh5 NOOP\r\n");
        Assert.StartsWith("h1 OK", (await client.ReadUntilTaggedAsync("h1"))[^1], StringComparison.Ordinal);
        await client.ReadUntilTaggedAsync("h2");
        var fetch = await client.ReadUntilTaggedAsync("h3");
        Assert.Equal("* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1 NIL NIL NIL NIL) PREVIEW \"abc\" BODY[TEXT] {3}", fetch[0]);
        Assert.StartsWith("h3 OK", fetch[^1], StringComparison.Ordinal);
        Assert.Contains("* SEARCH 1", await client.ReadUntilTaggedAsync("h4"));
        Assert.Equal("h5 OK NOOP completed", (await client.ReadUntilTaggedAsync("h5"))[^1]);
    }
}
