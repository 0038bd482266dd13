using System.Net.Sockets;
using System.Text;
using Postern.Server.Nntp;
using Postern.Store;

namespace Postern.IntegrationTests.Nntp;

public sealed class NntpReaderTests
{
    private static int Occurrences(byte[] octets, byte[] wanted)
    {
        var count = 0;
        for (var span = octets.AsSpan(); span.IndexOf(wanted) is var at && at >= 0; span = span[(at + wanted.Length)..])
        {
            count++;
        }

        return count;
    }

    [Fact]
    public async Task Xpat_finds_articles_whose_header_matches_a_wildmat()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(subject: "Meeting on Monday", messageId: "<m1@example.test>")));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(subject: "Lunch", messageId: "<m2@example.test>")));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(subject: "Re: Meeting on Monday", messageId: "<m3@example.test>")));
        Assert.StartsWith("101", await client.CommandAsync("CAPABILITIES"));
        Assert.Contains("XPAT", await client.ReadBlockAsync());
        Assert.StartsWith("211", await client.CommandAsync("GROUP example.general"));

        // The words after the range form one pattern (it may hold spaces); matching ignores case, as for LIST wildmats.
        Assert.StartsWith("221", await client.CommandAsync("XPAT Subject 1- *meeting on*"));
        Assert.Equal(["1 Meeting on Monday", "3 Re: Meeting on Monday"], await client.ReadBlockAsync());
        Assert.StartsWith("221", await client.CommandAsync("XPAT subject 2-3 *Meeting*,!Re:*"));
        Assert.Empty(await client.ReadBlockAsync());
        Assert.StartsWith("221", await client.CommandAsync("XPAT Subject <m2@example.test> L*"));
        Assert.Equal(["<m2@example.test> Lunch"], await client.ReadBlockAsync());
        Assert.StartsWith("430", await client.CommandAsync("XPAT Subject <none@example.test> *"));
        Assert.StartsWith("501", await client.CommandAsync("XPAT Subject 1-"));
        Assert.StartsWith("501", await client.CommandAsync("XPAT"));
    }

    [Fact]
    public async Task Post_refuses_a_header_line_over_998_octets_but_takes_it_folded_and_a_long_body_line()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));

        // RFC 5322 §2.1.1: no line over 998 octets; "Subject: " plus 990 makes 999.
        var words = string.Join(' ', Enumerable.Repeat("word", 198));
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(subject: new string('x', 990), messageId: "<long@example.test>")));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(subject: new string('x', 989), messageId: "<edge@example.test>")));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(subject: words[..500] + "\n " + words[501..], messageId: "<folded@example.test>")));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<body@example.test>", body: new string('b', 2000))));
        Assert.StartsWith("430", await client.CommandAsync("STAT <long@example.test>"));

        // Headers alone are refused, as INN's nnrpd does.
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(messageId: "<nobody@example.test>", body: "")));
        Assert.StartsWith("441", await client.PostAsync("From: Reader <reader@example.test>\nNewsgroups: example.general\nSubject: no body\n"));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<short@example.test>", body: "x")));
    }

    [Fact]
    public async Task Over_and_hdr_carry_the_header_octets_as_head_does_even_when_they_are_not_utf8()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using (var poster = await NntpTestClient.ConnectAsync(server.Port()))
        {
            Assert.StartsWith("281", await poster.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
            Assert.StartsWith("340", await poster.CommandAsync("POST"));

            // A Latin-1 "é" (0xE9) as old newsreaders wrote it, and a folded Subject with a tab.
            await poster.SendRawAsync([.. Encoding.ASCII.GetBytes("From: Reader <reader@example.test>\r\nNewsgroups: example.general\r\nMessage-ID: <latin1@example.test>\r\nSubject: Caf"),
                0xE9, .. Encoding.ASCII.GetBytes(" au\r\n\tlait\r\n\r\nBody.\r\n.\r\n")]);
            Assert.StartsWith("240", await poster.ReadLineAsync());
        }

        // Raw sockets: a text reader would itself turn the lone 0xE9 into U+FFFD.
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", server.Port());
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTHINFO USER {NntpTestServer.User}\r\nAUTHINFO PASS {NntpTestServer.Password}\r\n"));
        await stream.WriteAsync("GROUP example.general\r\nHEAD 1\r\nOVER 1\r\nXOVER 1\r\nHDR Subject 1\r\nXHDR Subject <latin1@example.test>\r\nXPAT Subject 1 Caf*\r\nQUIT\r\n"u8.ToArray());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        var octets = received.ToArray();

        byte[] subject = [.. "Caf"u8, 0xE9, .. " au lait"u8];
        // HEAD as posted; OVER, XOVER, HDR, XHDR and XPAT unfolded, tab turned into a space, octets unchanged.
        Assert.Equal(1, Occurrences(octets, [.. "\r\nSubject: Caf"u8, 0xE9, .. " au\r\n\tlait\r\n"u8]));
        Assert.Equal(5, Occurrences(octets, subject));
        Assert.Equal(0, Occurrences(octets, "\uFFFD"u8.ToArray()));
        Assert.Equal(0, Occurrences(octets, "Caf\u00E9"u8.ToArray()));
    }

    [Fact]
    public async Task PostedArticleCanBeReadBackEveryWay()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("200 ", client.Greeting);
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<first@example.test>")));

        Assert.Equal("211 1 1 1 example.general", await client.CommandAsync("GROUP example.general"));

        Assert.Equal("220 1 <first@example.test>", await client.CommandAsync("ARTICLE"));
        var article = await client.ReadBlockAsync();
        Assert.Contains("Subject: Hello", article);
        Assert.Contains(article, l => l.StartsWith("Path: mail.example.test!not-for-mail", StringComparison.Ordinal));
        Assert.Contains(article, l => l.StartsWith("Injection-Date: ", StringComparison.Ordinal));
        Assert.Contains("Injection-Info: mail.example.test; posting-host=\"127.0.0.1\"", article);
        Assert.Contains(article, l => l.StartsWith("Date: ", StringComparison.Ordinal));
        Assert.Contains(".A line with a leading dot", article);

        Assert.Equal("221 1 <first@example.test>", await client.CommandAsync("HEAD 1"));
        var head = await client.ReadBlockAsync();
        Assert.DoesNotContain("First line.", head);
        Assert.Contains("Newsgroups: example.general", head);

        Assert.Equal("222 0 <first@example.test>", (await client.CommandAsync("BODY <first@example.test>")).Replace("222 1", "222 0", StringComparison.Ordinal));
        Assert.Equal(["First line.", ".A line with a leading dot", "Last line."], await client.ReadBlockAsync());

        Assert.Equal("223 1 <first@example.test>", await client.CommandAsync("STAT 1"));
        Assert.StartsWith("423", await client.CommandAsync("STAT 2"));
        Assert.StartsWith("430", await client.CommandAsync("STAT <nothere@example.test>"));
        Assert.StartsWith("421", await client.CommandAsync("NEXT"));
        Assert.StartsWith("422", await client.CommandAsync("LAST"));

        Assert.StartsWith("224", await client.CommandAsync("OVER 1-"));
        var over = Assert.Single(await client.ReadBlockAsync());
        var fields = over.Split('\t');
        Assert.Equal("1", fields[0]);
        Assert.Equal("Hello", fields[1]);
        Assert.Equal("<first@example.test>", fields[4]);
        Assert.Equal("3", fields[7]);
        Assert.Equal("Xref: mail.example.test example.general:1", fields[8]);

        Assert.StartsWith("224", await client.CommandAsync("XOVER 1-1"));
        Assert.Single(await client.ReadBlockAsync());

        Assert.StartsWith("225", await client.CommandAsync("HDR Subject 1-"));
        Assert.Equal(["1 Hello"], await client.ReadBlockAsync());
        Assert.StartsWith("221", await client.CommandAsync("XHDR subject 1"));
        Assert.Equal(["1 Hello"], await client.ReadBlockAsync());
        Assert.StartsWith("225", await client.CommandAsync("HDR :LINES 1"));
        Assert.Equal(["1 3"], await client.ReadBlockAsync());

        // RFC 3977 §8.6.2: LIST HEADERS names the metadata items; any other is refused, as INN refuses it, and a name
        // that no header could have is a syntax error. Neither starts a block.
        Assert.Equal("503 Unsupported metadata request", await client.CommandAsync("HDR :unknown 1-"));
        Assert.StartsWith("501", await client.CommandAsync("HDR Sub:ject 1-"));
        Assert.StartsWith("501", await client.CommandAsync("XHDR : 1"));
        Assert.StartsWith("501", await client.CommandAsync("XPAT Subj\u00e9ct 1 *"));
        Assert.Equal("223 1 <first@example.test>", await client.CommandAsync("STAT"));

        Assert.StartsWith("211", await client.CommandAsync("LISTGROUP example.general"));
        Assert.Equal(["1"], await client.ReadBlockAsync());

        Assert.StartsWith("215", await client.CommandAsync("LIST ACTIVE example.*"));
        Assert.Equal(["example.general 1 1 y"], await client.ReadBlockAsync());
        Assert.StartsWith("215", await client.CommandAsync("LIST NEWSGROUPS"));
        Assert.Equal(["example.general\tGeneral discussion"], await client.ReadBlockAsync());
        Assert.StartsWith("215", await client.CommandAsync("LIST OVERVIEW.FMT"));
        Assert.Equal(["Subject:", "From:", "Date:", "Message-ID:", "References:", "Bytes:", "Lines:", "Xref:full"], await client.ReadBlockAsync());
        Assert.StartsWith("215", await client.CommandAsync("LIST ACTIVE.TIMES"));
        Assert.Single(await client.ReadBlockAsync());
        Assert.StartsWith("215", await client.CommandAsync("LIST COUNTS"));
        Assert.Equal(["example.general 1 1 1 y"], await client.ReadBlockAsync());
        Assert.StartsWith("215", await client.CommandAsync("LIST SUBSCRIPTIONS"));
        Assert.Equal(["example.general"], await client.ReadBlockAsync());
        Assert.StartsWith("215", await client.CommandAsync("LIST DISTRIBUTIONS"));
        Assert.Empty(await client.ReadBlockAsync());
        Assert.StartsWith("215", await client.CommandAsync("LIST MODERATORS"));
        Assert.Empty(await client.ReadBlockAsync());
        Assert.StartsWith("501", await client.CommandAsync("LIST NOSUCHLIST"));
        Assert.StartsWith("501", await client.CommandAsync("LIST OVERVIEW.FMT extra"));
        Assert.StartsWith("501", await client.CommandAsync("LIST HEADERS NOSUCHVARIANT"));
        Assert.StartsWith("501", await client.CommandAsync("LIST DISTRIB.PATS *"));
        Assert.StartsWith("215", await client.CommandAsync("LIST HEADERS msgid"));
        Assert.Contains(":bytes", await client.ReadBlockAsync());

        Assert.StartsWith("230", await client.CommandAsync("NEWNEWS example.* 20000101 000000 GMT"));
        Assert.Equal(["<first@example.test>"], await client.ReadBlockAsync());
        Assert.StartsWith("231", await client.CommandAsync("NEWGROUPS 000101 000000"));
        Assert.Single(await client.ReadBlockAsync());

        Assert.Matches(@"^111 \d{14}$", await client.CommandAsync("DATE"));
        Assert.StartsWith("205", await client.CommandAsync("QUIT"));
    }

    [Fact]
    public async Task CommandsWithExtraArgumentsAreSyntaxErrorsAndChangeNothing()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<extra@example.test>")));

        // RFC 3977 §3.2.1: 501 for a syntax error, as INN answers; the extra words are not ignored.
        Assert.StartsWith("501", await client.CommandAsync("GROUP example.general extra"));
        Assert.StartsWith("412", await client.CommandAsync("STAT"));
        Assert.StartsWith("211", await client.CommandAsync("GROUP example.general"));
        Assert.StartsWith("501", await client.CommandAsync("ARTICLE 1 2"));
        Assert.StartsWith("501", await client.CommandAsync("OVER 1 2"));
        Assert.StartsWith("501", await client.CommandAsync("HDR Subject 1 extra"));
        Assert.StartsWith("501", await client.CommandAsync("LISTGROUP example.general 1- extra"));
        Assert.StartsWith("501", await client.CommandAsync("NEXT extra"));
        Assert.StartsWith("501", await client.CommandAsync("DATE extra"));
        Assert.StartsWith("501", await client.CommandAsync("POST extra"));
        Assert.StartsWith("501", await client.CommandAsync("QUIT extra"));
        Assert.Equal("223 1 <extra@example.test>", await client.CommandAsync("STAT"));
        Assert.StartsWith("205", await client.CommandAsync("QUIT"));
    }

    [Fact]
    public async Task PostWithoutMessageIdGetsOneAndCrossPostsFileIntoEveryKnownGroup()
    {
        await using var server = await NntpTestServer.StartAsync();
        await server.Store.PublicFolders.AddFolderAsync("Example/Other", "example.other", null, CancellationToken.None);
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(newsgroups: "example.general, no.such.group,example.other", extraHeaders: "Xref: elsewhere.test junk:99\n")));

        Assert.StartsWith("211 1 ", await client.CommandAsync("GROUP example.other"));
        var stat = await client.CommandAsync("STAT");
        Assert.Matches(@"^223 1 <[0-9a-f]{32}@mail\.example\.test>$", stat);
        var messageId = stat.Split(' ')[2];
        Assert.StartsWith("211 1 ", await client.CommandAsync("GROUP example.general"));
        Assert.Equal($"223 1 {messageId}", await client.CommandAsync("STAT " + messageId));
        Assert.StartsWith("225", await client.CommandAsync($"HDR Newsgroups {messageId}"));
        Assert.Equal(["0 example.general, no.such.group,example.other"], await client.ReadBlockAsync());

        // Xref names every group that files the cross-post, with this server's numbers; the poster's is dropped.
        Assert.StartsWith("224", await client.CommandAsync("OVER 1"));
        Assert.EndsWith("\tXref: mail.example.test example.general:1 example.other:1", Assert.Single(await client.ReadBlockAsync()));
        Assert.StartsWith("211 1 ", await client.CommandAsync("GROUP example.other"));
        Assert.StartsWith("225", await client.CommandAsync("HDR Xref 1-"));
        Assert.Equal(["1 mail.example.test example.other:1 example.general:1"], await client.ReadBlockAsync());
        Assert.StartsWith("221", await client.CommandAsync("HEAD 1"));
        Assert.DoesNotContain(await client.ReadBlockAsync(), h => h.StartsWith("Xref:", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ListMotdGivesTheConfiguredMessageOfTheDayOr503()
    {
        await using (var plain = await NntpTestServer.StartAsync())
        await using (var client = await NntpTestClient.ConnectAsync(plain.Port()))
        {
            Assert.StartsWith("503", await client.CommandAsync("LIST MOTD"));
        }

        await using var server = await NntpTestServer.StartAsync(NntpTestServer.Config(settings: new Dictionary<string, string>
        {
            [NntpDefaults.MotdSetting] = @"Maintenance on Sunday.\n.\nThe admins",
        }));
        await using var reader = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("101", await reader.CommandAsync("CAPABILITIES"));
        Assert.Contains((await reader.ReadBlockAsync()).Single(l => l.StartsWith("LIST ", StringComparison.Ordinal)).Split(' '), k => k == "MOTD");
        Assert.StartsWith("215", await reader.CommandAsync("LIST MOTD"));

        // ReadBlockAsync undoes the dot-stuffing of the line that is a lone dot.
        Assert.Equal(["Maintenance on Sunday.", ".", "The admins"], await reader.ReadBlockAsync());
    }

    [Fact]
    public async Task RangesLongerThanAStorePageComeBackWholeAndInOrder()
    {
        // LISTGROUP, OVER, HDR and NEWNEWS read a large group a thousand articles at a time; NEXT and LAST read one.
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        var folder = (await folders.FindNewsgroupAsync("example.general", CancellationToken.None))!;
        const int count = 2_345;
        await Task.WhenAll(Enumerable.Range(1, count).Select(i => folders.PostArticleAsync(
            new NewArticle(System.Text.Encoding.ASCII.GetBytes($"Subject: s{i}\r\nMessage-ID: <p{i}@x>\r\n\r\nbody\r\n"), $"<p{i}@x>", [folder.Id], DateTimeOffset.UtcNow), CancellationToken.None)));

        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        Assert.StartsWith("211", await client.CommandAsync("LISTGROUP example.general"));
        Assert.Equal(Enumerable.Range(1, count).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), await client.ReadBlockAsync());
        Assert.StartsWith("224", await client.CommandAsync("OVER 1-"));
        var over = await client.ReadBlockAsync();
        Assert.Equal(count, over.Count);
        Assert.Equal(Enumerable.Range(1, count).Select(n => (long)n), over.Select(l => long.Parse(l.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.StartsWith("225", await client.CommandAsync("HDR Message-ID 1000-2001"));
        var hdr = await client.ReadBlockAsync();
        Assert.Equal(1002, hdr.Count);
        Assert.Equal("2001 ", hdr[^1][..5]);
        Assert.StartsWith("230", await client.CommandAsync("NEWNEWS example.* 20000101 000000 GMT"));
        var newNews = await client.ReadBlockAsync();
        Assert.Equal(count, newNews.Distinct().Count());
        Assert.Equal(Enumerable.Range(1, count).Select(i => $"<p{i}@x>").Order(), newNews.Order());

        Assert.Equal($"223 1 {await MessageIdOfAsync(client, 1)}", await client.CommandAsync("STAT 1"));
        Assert.StartsWith("223 2 ", await client.CommandAsync("NEXT"));
        Assert.StartsWith($"223 {count} ", await client.CommandAsync($"STAT {count}"));
        Assert.StartsWith($"223 {count - 1} ", await client.CommandAsync("LAST"));
    }

    private static async Task<string> MessageIdOfAsync(NntpTestClient client, int number)
    {
        Assert.StartsWith("221", await client.CommandAsync($"HEAD {number}"));
        return (await client.ReadBlockAsync()).Single(h => h.StartsWith("Message-ID: ", StringComparison.Ordinal))["Message-ID: ".Length..];
    }

    [Fact]
    public async Task ArticleNumbersAreNeverReused()
    {
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        var folder = (await folders.FindNewsgroupAsync("example.general", CancellationToken.None))!;
        for (var i = 1; i <= 3; i++)
        {
            var posted = await folders.PostArticleAsync(new NewArticle(System.Text.Encoding.ASCII.GetBytes($"Subject: {i}\r\n\r\nbody\r\n"), $"<n{i}@x>", [folder.Id], DateTimeOffset.UtcNow), CancellationToken.None);
            Assert.Equal(i, Assert.Single(posted.Stored).Number);
        }

        Assert.Equal(StoreStatus.Ok, await folders.RemoveMessageAsync(folder.Id, 3, CancellationToken.None));
        var next = await folders.AppendAsync(folder.Id, "Subject: 4\r\n\r\nbody\r\n"u8.ToArray(), null, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal(4, next.Value!.Number);

        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        Assert.Equal("211 3 1 4 example.general", await client.CommandAsync("GROUP example.general"));
        Assert.Equal("223 2 <n2@x> retrieved", await client.CommandAsync("NEXT"));
        Assert.StartsWith("223 4 ", await client.CommandAsync("NEXT"));
        Assert.StartsWith("421", await client.CommandAsync("NEXT"));
    }

    [Fact]
    public async Task The_author_cancels_an_article_others_cannot_and_a_cancelled_id_is_never_taken_again()
    {
        await using var server = await NntpTestServer.StartAsync();
        Assert.True((await server.Store.Directory.AddAccountAsync("other@example.test", "other secret", CancellationToken.None)).IsOk);
        await using var author = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await author.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        Assert.StartsWith("240", await author.PostAsync(NntpTestServer.Article(messageId: "<mine@example.test>")));
        Assert.StartsWith("240", await author.PostAsync(NntpTestServer.Article(subject: "Stays", messageId: "<stays@example.test>")));

        // Somebody else (and an anonymous reader) may not withdraw it (RFC 5537 §5.3 leaves the check to the server).
        static string Cancel(string id, string controlId, string from = "Reader <reader@example.test>") =>
            $"From: {from}\nNewsgroups: example.general\nSubject: cmsg cancel {id}\nControl: cancel {id}\nMessage-ID: {controlId}\n\nCancelled.\n";
        await using var other = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await other.LoginAsync("other@example.test", "other secret"));
        Assert.StartsWith("441", await other.PostAsync(Cancel("<mine@example.test>", "<forged@example.test>", "Reader <reader@example.test>")));
        Assert.StartsWith("441", await author.PostAsync(Cancel("<unknown@example.test>", "<c0@example.test>")));
        Assert.StartsWith("441", await author.PostAsync(NntpTestServer.Article(messageId: "<ng@example.test>", extraHeaders: "Control: newgroup example.new\n")));
        Assert.StartsWith("223", await author.CommandAsync("STAT <mine@example.test>"));

        Assert.StartsWith("240", await author.PostAsync(Cancel("<mine@example.test>", "<c1@example.test>")));
        Assert.StartsWith("430", await author.CommandAsync("STAT <mine@example.test>"));
        Assert.Equal("211 1 2 2 example.general", await author.CommandAsync("GROUP example.general"));
        // The control article is filed in no group, but kept for pull peers: by Message-ID it has number 0.
        Assert.StartsWith("223 0 <c1@example.test>", await author.CommandAsync("STAT <c1@example.test>"));

        // The cancelled Message-ID and the control article's are both in the history now.
        Assert.StartsWith("441", await author.PostAsync(NntpTestServer.Article(messageId: "<mine@example.test>")));
        Assert.StartsWith("441", await author.PostAsync(Cancel("<stays@example.test>", "<c1@example.test>")));
        Assert.StartsWith("435", await author.CommandAsync("IHAVE <mine@example.test>"));
        Assert.StartsWith("223", await author.CommandAsync("STAT <stays@example.test>"));
    }

    [Fact]
    public async Task A_post_with_Supersedes_replaces_the_authors_earlier_article()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(subject: "Draft", messageId: "<v1@example.test>")));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(subject: "Final", messageId: "<v2@example.test>",
            extraHeaders: "Supersedes: <v1@example.test>\nInjection-Info: forged.example; posting-host=\"10.9.9.9\"\nInjection-Info: again.example\n")));

        Assert.StartsWith("430", await client.CommandAsync("STAT <v1@example.test>"));
        Assert.Equal("220 0 <v2@example.test>", await client.CommandAsync("ARTICLE <v2@example.test>"));
        var final = await client.ReadBlockAsync();
        Assert.Contains("Subject: Final", final);

        // The poster's Injection-Info fields are dropped; only the server's own remains (RFC 5537 §3.5).
        Assert.Equal(["Injection-Info: mail.example.test; posting-host=\"127.0.0.1\""], final.Where(l => l.StartsWith("Injection-Info:", StringComparison.OrdinalIgnoreCase)));
        Assert.Equal("211 1 2 2 example.general", await client.CommandAsync("GROUP example.general"));
    }

    [Fact]
    public async Task PostingNeedsTheRequiredHeadersAndAUniqueMessageId()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);

        Assert.StartsWith("441", await client.PostAsync("From: a@example.test\nNewsgroups: example.general\n\nno subject\n"));
        Assert.StartsWith("441", await client.PostAsync("Subject: x\nNewsgroups: example.general\n\nno from\n"));
        Assert.StartsWith("441", await client.PostAsync("From: a@example.test\nSubject: x\n\nno newsgroups\n"));
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(newsgroups: "no.such.group")));
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(messageId: "not-an-id")));

        // RFC 5536 §3.1.3 (as INN checks on POST): "<" id-left "@" id-right ">", not just any "<...>".
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(messageId: "<@>")));
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(messageId: "<a<b@example.test>")));
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(messageId: "<no-at-sign.example.test>")));
        Assert.StartsWith("441", await client.PostAsync("\u0001\u0002 binary garbage without a colon\n"));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<dup@example.test>")));
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(messageId: "<dup@example.test>")));
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(body: new string('x', 70 * 1024))));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<\"quoted\"@[192.0.2.1]>")));
        Assert.Equal("211 2 1 2 example.general", await client.CommandAsync("GROUP example.general"));
    }

    [Fact]
    public async Task PostingRefusesHeaderLinesWithoutAColonAndRepeatedSingleFields()
    {
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);

        // RFC 5322 §2.2 / §3.6: every header line is "name: value", and Subject, From, Newsgroups... occur once (INN refuses both).
        Assert.Equal("441 Malformed header line", await client.PostAsync(NntpTestServer.Article(extraHeaders: "This line is not a header\n")));
        Assert.Equal("441 Duplicate Subject header", await client.PostAsync(NntpTestServer.Article(extraHeaders: "Subject: another\n")));
        Assert.Equal("441 Duplicate Newsgroups header", await client.PostAsync(NntpTestServer.Article(extraHeaders: "newsgroups: example.other\n")));
        Assert.Equal("441 Duplicate Message-ID header", await client.PostAsync(NntpTestServer.Article(messageId: "<one@example.test>", extraHeaders: "Message-ID: <two@example.test>\n")));

        // Repeatable fields (and folded ones) are fine.
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(extraHeaders: "Comments: one\nComments: two\nX-Long: folded\n continued\n")));
        Assert.Equal("211 1 1 1 example.general", await client.CommandAsync("GROUP example.general"));
    }

    [Fact]
    public async Task AnonymousClientsGet480AndPermissionsAreEnforcedPerGroup()
    {
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        var announce = (await folders.AddFolderAsync("Example/Announce", "example.announce", null, CancellationToken.None)).Value!;
        await folders.SetPermissionAsync(announce.Id, PublicFolderPrincipals.Anonymous, PublicFolderRights.Read, CancellationToken.None);
        await folders.SetPermissionAsync(announce.Id, PublicFolderPrincipals.Authenticated, PublicFolderRights.Read, CancellationToken.None);

        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("480", await client.CommandAsync("GROUP example.general"));
        Assert.StartsWith("211", await client.CommandAsync("GROUP example.announce"));
        Assert.StartsWith("480", await client.CommandAsync("POST"));
        Assert.StartsWith("215", await client.CommandAsync("LIST"));
        Assert.Equal(["example.announce 0 1 n"], await client.ReadBlockAsync());

        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        Assert.StartsWith("441", await client.PostAsync(NntpTestServer.Article(newsgroups: "example.announce")));
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(newsgroups: "example.general")));
    }

    [Fact]
    public async Task ClientThatCanReadNothingYetIsAskedToLogOnInsteadOfGettingAnEmptyList()
    {
        // slrn and tin authenticate when LIST answers 480; an empty 215 list would leave them with no groups.
        await using var server = await NntpTestServer.StartAsync();
        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        Assert.StartsWith("480", await client.CommandAsync("LIST ACTIVE"));
        Assert.StartsWith("480", await client.CommandAsync("LIST NEWSGROUPS"));
        Assert.StartsWith("480", await client.CommandAsync("NEWGROUPS 20000101 000000"));
        Assert.StartsWith("480", await client.CommandAsync("NEWNEWS * 20000101 000000"));
        Assert.StartsWith("215", await client.CommandAsync("LIST OVERVIEW.FMT"));
        Assert.Equal(8, (await client.ReadBlockAsync()).Count);

        Assert.StartsWith("281", await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password));
        Assert.StartsWith("215", await client.CommandAsync("LIST ACTIVE"));
        Assert.Equal(["example.general 0 1 y"], await client.ReadBlockAsync());

        // Where credentials may not cross in clear, the answer before STARTTLS says so: 483, not 480.
        await using var secure = await NntpTestServer.StartAsync(NntpTestServer.Config(requireSecure: true));
        await using var plain = await NntpTestClient.ConnectAsync(secure.Port());
        Assert.StartsWith("483", await plain.CommandAsync("LIST ACTIVE"));
    }

    [Fact]
    public async Task ModeratedGroupHoldsPostsUntilApproved()
    {
        await using var server = await NntpTestServer.StartAsync();
        var folders = server.Store.PublicFolders;
        var folder = (await folders.FindNewsgroupAsync("example.general", CancellationToken.None))!;
        Assert.Equal(StoreStatus.Ok, await folders.SetModerationAsync(folder.Id, true, "moderator@example.test", CancellationToken.None));

        await using var client = await NntpTestClient.ConnectAsync(server.Port());
        await client.LoginAsync(NntpTestServer.User, NntpTestServer.Password);
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<held@example.test>")));
        Assert.Equal("211 0 1 0 example.general", await client.CommandAsync("GROUP example.general"));
        Assert.StartsWith("215", await client.CommandAsync("LIST ACTIVE"));
        Assert.Equal(["example.general 0 1 m"], await client.ReadBlockAsync());
        Assert.StartsWith("215", await client.CommandAsync("LIST MODERATORS"));
        Assert.Equal(["example.general:moderator@example.test"], await client.ReadBlockAsync());

        var pending = Assert.Single(await folders.ListPendingAsync(folder.Id, CancellationToken.None));
        Assert.Equal("<held@example.test>", pending.MessageId);
        var approved = await folders.ApprovePendingAsync(pending.Id, CancellationToken.None);
        Assert.Equal(ArticleOutcome.Stored, approved!.Outcome);
        Assert.Equal("211 1 1 1 example.general", await client.CommandAsync("GROUP example.general"));
        Assert.Empty(await folders.ListPendingAsync(null, CancellationToken.None));

        // A second held post is rejected by the moderator and its Message-ID stays known.
        Assert.StartsWith("240", await client.PostAsync(NntpTestServer.Article(messageId: "<spam@example.test>")));
        var spam = Assert.Single(await folders.ListPendingAsync(null, CancellationToken.None));
        Assert.True(await folders.RejectPendingAsync(spam.Id, CancellationToken.None));
        Assert.Equal(NewsHistoryState.Rejected, (await folders.GetHistoryAsync("<spam@example.test>", CancellationToken.None))!.State);
    }
}
