using System.Globalization;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.EndToEnd;

/// <summary>
/// A server named localhost (these clients connect to the name they check), so Python's imaplib and fetchmail can verify
/// the certificate against the exported root without any resolver tricks.
/// </summary>
public sealed class ScriptedClientsFixture : IAsyncLifetime
{
    public PosternProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PosternProcess.StartAsync("localhost");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Scripted clients a new user would try against the real `postern serve` process: Python's imaplib (IMAPS on 993 and
/// STARTTLS on 143) and nntplib (NNTPS on 563 and STARTTLS on 119), fetchmail (POP3S and IMAP with STARTTLS) and tin,
/// each trusting only the root from `postern ca export`.
/// </summary>
public sealed class ScriptedClientsTests(ScriptedClientsFixture fixture) : IClassFixture<ScriptedClientsFixture>
{
    private const string HostName = "localhost";
    private const string Password = "a-good-password";
    private readonly PosternProcess _server = fixture.Server;

    private const string ImaplibScript = """
        import imaplib, ssl, sys
        host, port, mode, cafile, user, password, subject = sys.argv[1:8]
        context = ssl.create_default_context(cafile=cafile)
        if mode == "ssl":
            client = imaplib.IMAP4_SSL(host, int(port), ssl_context=context)
        else:
            client = imaplib.IMAP4(host, int(port))
            typ, _ = client.starttls(ssl_context=context)
            print("STARTTLS", typ)
        print("TLS", client.sock.version())
        print("LOGIN", client.login(user, password)[0])
        typ, data = client.select("INBOX")
        print("SELECT", typ, data[0].decode())
        typ, data = client.search(None, "SUBJECT", '"' + subject + '"')
        numbers = data[0].split()
        print("SEARCH", typ, b" ".join(numbers).decode())
        typ, data = client.fetch(numbers[0], "(RFC822)")
        print("FETCH", typ)
        sys.stdout.write(data[0][1].decode("utf-8", "replace").replace("\r\n", "\n"))
        print("LOGOUT", client.logout()[0])
        """;

    [Theory]
    [InlineData(993, "ssl")]
    [InlineData(143, "starttls")]
    public async Task PythonImaplibReadsAMessageTrustingOnlyTheExportedRoot(int standardPort, string mode)
    {
        var user = await AddUserAsync("imaplib");
        var ca = await ExportRootAsync();
        var subject = "e2e via imaplib " + mode;
        await SubmitAsync(ca, user, subject, "Body read by Python imaplib.");

        var script = Path.Combine(_server.DataDirectory, $"imaplib-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(script, ImaplibScript);
        var run = await PosternProcess.RunAsync("python3", [script, HostName, Port(standardPort), mode, ca, user, Password, subject]);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var output = run.Output;
        if (mode == "starttls")
        {
            Assert.Contains("STARTTLS OK", output, StringComparison.Ordinal);
        }

        Assert.Contains("TLS TLSv1.", output, StringComparison.Ordinal);
        Assert.Contains("LOGIN OK", output, StringComparison.Ordinal);
        Assert.Contains("SELECT OK 1", output, StringComparison.Ordinal);
        Assert.Contains("SEARCH OK 1", output, StringComparison.Ordinal);
        Assert.Contains("FETCH OK", output, StringComparison.Ordinal);
        Assert.Contains("Subject: " + subject, output, StringComparison.Ordinal);
        Assert.Contains("Body read by Python imaplib.", output, StringComparison.Ordinal);
        Assert.Contains("LOGOUT BYE", output, StringComparison.Ordinal);

        // Without the exported root, Python's default context refuses the server: the trust comes from ca.pem.
        var untrusted = await PosternProcess.RunAsync("python3", ["-c",
            "import imaplib, ssl, sys\ntry:\n imaplib.IMAP4_SSL(sys.argv[1], int(sys.argv[2]), ssl_context=ssl.create_default_context())\nexcept ssl.SSLCertVerificationError:\n print('REFUSED')\n",
            HostName, Port(993)]);
        Assert.Contains("REFUSED", untrusted.Output, StringComparison.Ordinal);
    }

    // Debian 12's Python (3.11) still has nntplib (removed in 3.13); the same run then finds the article over IMAP.
    private const string NntplibScript = """
        import imaplib, io, nntplib, ssl, sys, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        host, port, mode, imaps, cafile, user, password, group, subject = sys.argv[1:10]
        context = ssl.create_default_context(cafile=cafile)
        if mode == "ssl":
            news = nntplib.NNTP_SSL(host, int(port), ssl_context=context, readermode=True)
        else:
            news = nntplib.NNTP(host, int(port), readermode=True)
            news.starttls(context)
        print("TLS", news.sock.version())
        news.login(user, password, usenetrc=False)
        article = f"From: {user}\r\nNewsgroups: {group}\r\nSubject: {subject}\r\n\r\nPosted with nntplib.\r\n"
        print("POST", news.post(io.BytesIO(article.encode())))
        _, count, first, last, _ = news.group(group)
        _, overviews = news.over((first, last))
        number = [n for n, o in overviews if o["subject"] == subject][0]
        _, info = news.article(number)
        print("ARTICLE", info.lines[-1].decode())
        news.quit()
        mail = imaplib.IMAP4_SSL(host, int(imaps), ssl_context=context)
        mail.login(user, password)
        folder = '"Public Folders/' + group.replace(".", "/").title() + '"'
        print("SELECT", mail.select(folder, readonly=True)[0])
        print("IMAP", mail.search(None, "SUBJECT", '"' + subject + '"')[1][0].decode())
        mail.logout()
        """;

    [Theory]
    [InlineData(563, "ssl")]
    [InlineData(119, "starttls")]
    public async Task PythonNntplibPostsAndReadsTrustingOnlyTheExportedRootAndImapSeesTheArticle(int standardPort, string mode)
    {
        var user = await AddUserAsync("nntplib-" + mode);
        var ca = await ExportRootAsync();
        var group = "nntplib." + mode;
        var added = await _server.CliAsync(null, "public-folder", "add", "Nntplib/" + char.ToUpperInvariant(mode[0]) + mode[1..], "--newsgroup", group);
        Assert.True(added.ExitCode == 0, added.Error);

        var script = Path.Combine(_server.DataDirectory, $"nntplib-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(script, NntplibScript);
        var subject = "e2e via nntplib " + mode;
        var run = await PosternProcess.RunAsync("/usr/bin/python3", [script, HostName, Port(standardPort), mode, Port(993), ca, user, Password, group, subject]);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("TLS TLSv1.", run.Output, StringComparison.Ordinal);
        Assert.Contains("POST 240", run.Output, StringComparison.Ordinal);
        Assert.Contains("ARTICLE Posted with nntplib.", run.Output, StringComparison.Ordinal);
        Assert.Contains("SELECT OK", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"IMAP \d+", run.Output);
    }

    [Fact]
    public async Task FetchmailOverPop3sKeepsWithKeepAndDeletesByDefault()
    {
        var user = await AddUserAsync("fetchmail-pop3");
        var ca = await ExportRootAsync();
        await SubmitAsync(ca, user, "e2e via fetchmail pop3", "Body fetched by fetchmail over POP3S.");
        var work = NewWorkDirectory("fetchmail-pop3");
        var mbox = Path.Combine(work, "delivered");

        // Trusting only the system roots, fetchmail refuses the server and delivers nothing: the trust comes from ca.pem.
        var untrusted = await FetchmailAsync(work, ["--protocol", "pop3", "--port", Port(995), "--ssl", "--sslcertfile", "/etc/ssl/certs/ca-certificates.crt", "--sslcertck", "--keep", "--fetchall"], user, mbox);
        Assert.True(untrusted.ExitCode > 1, untrusted.Output + untrusted.Error);
        Assert.False(File.Exists(mbox));

        // --keep: the message is delivered and stays on the server, so a second run fetches it again.
        var kept = await FetchmailAsync(work, ["--protocol", "pop3", "--port", Port(995), "--ssl", "--sslcertfile", ca, "--sslcertck", "--keep", "--fetchall"], user, mbox);
        Assert.True(kept.ExitCode == 0, kept.Output + kept.Error);
        Assert.Contains("Subject: e2e via fetchmail pop3", await File.ReadAllTextAsync(mbox), StringComparison.Ordinal);
        File.Delete(mbox);

        // Default: delivered, then deleted (DELE + QUIT), so the third run finds nothing (fetchmail's exit code 1).
        var deleted = await FetchmailAsync(work, ["--protocol", "pop3", "--port", Port(995), "--ssl", "--sslcertfile", ca, "--sslcertck", "--fetchall"], user, mbox);
        Assert.True(deleted.ExitCode == 0, deleted.Output + deleted.Error);
        Assert.Contains("Body fetched by fetchmail over POP3S.", await File.ReadAllTextAsync(mbox), StringComparison.Ordinal);
        File.Delete(mbox);

        var empty = await FetchmailAsync(work, ["--protocol", "pop3", "--port", Port(995), "--ssl", "--sslcertfile", ca, "--sslcertck", "--fetchall"], user, mbox);
        Assert.True(empty.ExitCode == 1, empty.Output + empty.Error);
        Assert.False(File.Exists(mbox));
    }

    [Fact]
    public async Task FetchmailOverImapWithStartTlsDeliversTheMessage()
    {
        var user = await AddUserAsync("fetchmail-imap");
        var ca = await ExportRootAsync();
        await SubmitAsync(ca, user, "e2e via fetchmail imap", "Body fetched by fetchmail over IMAP STARTTLS.");
        var work = NewWorkDirectory("fetchmail-imap");
        var mbox = Path.Combine(work, "delivered");

        // No --ssl: fetchmail issues STARTTLS on 143, and --sslproto tls1.2+ makes TLS mandatory.
        var fetched = await FetchmailAsync(work, ["--protocol", "imap", "--port", Port(143), "--sslproto", "tls1.2+", "--sslcertfile", ca, "--sslcertck", "--keep"], user, mbox);
        Assert.True(fetched.ExitCode == 0, fetched.Output + fetched.Error);
        var delivered = await File.ReadAllTextAsync(mbox);
        Assert.Contains("Subject: e2e via fetchmail imap", delivered, StringComparison.Ordinal);
        Assert.Contains("Body fetched by fetchmail over IMAP STARTTLS.", delivered, StringComparison.Ordinal);

        // fetchmail marked it \Seen: a second run without --fetchall has nothing new to fetch.
        File.Delete(mbox);
        var again = await FetchmailAsync(work, ["--protocol", "imap", "--port", Port(143), "--sslproto", "tls1.2+", "--sslcertfile", ca, "--sslcertck", "--keep"], user, mbox);
        Assert.True(again.ExitCode == 1, again.Output + again.Error);
        Assert.False(File.Exists(mbox));
    }

    /// <summary>A raw NNTPS session that logs on, then posts the article tin looks for (post) or prints a group's newest (read).</summary>
    private const string NntpsScript = """
        import socket, ssl, sys
        host, port, cafile, user, password, action, group = sys.argv[1:8]
        sock = ssl.create_default_context(cafile=cafile).wrap_socket(socket.create_connection((host, int(port))), server_hostname=host)
        stream = sock.makefile("rwb")
        def command(line):
            stream.write(line.encode() + b"\r\n"); stream.flush()
            return stream.readline().decode().strip()
        print(stream.readline().decode().strip())
        print(command("AUTHINFO USER " + user)); print(command("AUTHINFO PASS " + password))
        if action == "post":
            print(command("POST"))
            print(command("From: " + user + "\r\nNewsgroups: " + group + "\r\nSubject: for tin\r\n\r\nHello, tin.\r\n."))
        else:
            print(command("ARTICLE " + command("GROUP " + group).split()[3]))
            while (line := stream.readline().decode().rstrip("\r\n")) != ".":
                print(line)
        """;

    [Fact]
    public async Task TinWithAFreshHomeLogsOnWhenAskedFindsTheUnreadArticleAndPostsOverNntps()
    {
        var user = await AddUserAsync("tin-reader");
        var ca = await ExportRootAsync();
        Assert.Equal(0, (await _server.CliAsync(null, "public-folder", "add", "Tin/News", "--newsgroup", "tin.news")).ExitCode);
        var posted = await PosternProcess.RunAsync("python3", ["-c", NntpsScript, HostName, Port(563), ca, user, Password, "post", "tin.news"]);
        Assert.True(posted.ExitCode == 0, posted.Output + posted.Error);
        Assert.Contains("240", posted.Output, StringComparison.Ordinal);

        // tin -Z: exit 2 when there is unread news, 1 on an error. A fresh home has no subscriptions: tin takes LIST
        // SUBSCRIPTIONS, and logs on (from ~/.newsauth) only because LIST answers 480.
        async Task<int> TinAsync(string trust, string password)
        {
            var home = NewWorkDirectory("tin");
            var auth = Path.Combine(home, ".newsauth");
            await File.WriteAllTextAsync(auth, $"{HostName} {password} {user}\n");
            File.SetUnixFileMode(auth, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var run = await PosternProcess.RunAsync("env", ["HOME=" + home, "SSL_CERT_FILE=" + trust, "tin", "-g", HostName, "-p", Port(563), "-T", "-Z"]);
            return run.ExitCode;
        }

        Assert.Equal(2, await TinAsync(ca, Password));
        Assert.Equal(1, await TinAsync(ca, "wrong"));
        Assert.Equal(1, await TinAsync("/etc/ssl/certs/ca-certificates.crt", Password));

        // Posting with tin -w, answering its prompts on a terminal as a user would; the editor (called as EDITOR +LINE
        // FILE) adds the body.
        var poster = NewWorkDirectory("tin-post");
        Directory.CreateDirectory(Path.Combine(poster, ".tin"));
        Directory.CreateDirectory(Path.Combine(poster, "Mail"));
        await File.WriteAllTextAsync(Path.Combine(poster, ".tin", "tinrc"), $"mail_address={user}\n");
        await File.WriteAllTextAsync(Path.Combine(poster, ".newsauth"), $"{HostName} {Password} {user}\n");
        File.SetUnixFileMode(Path.Combine(poster, ".newsauth"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var editor = Path.Combine(poster, "editor.sh");
        await File.WriteAllTextAsync(editor, "#!/bin/sh\nfor file; do :; done\nprintf 'Written in tin.\\n' >> \"$file\"\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var driver = Path.Combine(poster, "terminal.py");
        await File.WriteAllTextAsync(driver, TerminalScript);
        var post = await PosternProcess.RunAsync("env", [
            "HOME=" + poster, "SSL_CERT_FILE=" + ca, "EDITOR=" + editor, "TERM=xterm", "/usr/bin/python3", driver,
            "Post to newsgroup", "tin.news\r", "[Ss]ubject", "posted with tin\r", "p=post", "p", "--",
            "tin", "-g", HostName, "-p", Port(563), "-T", "-w",
        ]);
        Assert.True(post.ExitCode == 0, post.Output + post.Error);
        Assert.Contains("Article posted", post.Output, StringComparison.Ordinal);
        var read = await PosternProcess.RunAsync("python3", ["-c", NntpsScript, HostName, Port(563), ca, user, Password, "read", "tin.news"]);
        Assert.True(read.ExitCode == 0, read.Output + read.Error);
        Assert.Contains("posted with tin", read.Output, StringComparison.Ordinal);
        Assert.Contains("Written in tin.", read.Output, StringComparison.Ordinal);
    }

    /// <summary>Runs a program on a pseudo-terminal and types each answer once its prompt (a regular expression) shows.</summary>
    private const string TerminalScript = """
        import os, pty, re, select, sys, time
        split = sys.argv.index("--")
        steps, command = sys.argv[1:split], sys.argv[split + 1:]
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(command[0], command)
        seen, output, deadline = b"", b"", time.time() + 40
        def read():
            global seen, output
            try:
                data = os.read(fd, 65536)
            except OSError:  # the terminal closed: the program ended
                data = b""
            output += data
            seen += re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", data)
            return data
        for prompt, answer in zip(steps[0::2], steps[1::2]):
            while not re.search(prompt.encode(), seen):
                if time.time() > deadline:
                    sys.exit("no prompt " + prompt + ": " + output.decode("utf-8", "replace"))
                if select.select([fd], [], [], 0.2)[0] and not read():
                    sys.exit("ended before " + prompt + ": " + output.decode("utf-8", "replace"))
            # tin discards keys typed before it waits for them: answer once the screen has been quiet for a moment, and
            # again if nothing at all shows that the answer was taken (a busy machine can be quiet for longer).
            while select.select([fd], [], [], 0.5)[0] and read():
                pass
            seen = b""
            for _ in range(3):
                os.write(fd, answer.encode())
                if select.select([fd], [], [], 5)[0]:
                    break
        while read():
            pass
        sys.stdout.write(re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", output).decode("utf-8", "replace"))
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        """;


    private string Port(int standardPort) => _server.Port(standardPort).ToString(CultureInfo.InvariantCulture);

    private string NewWorkDirectory(string name)
    {
        var directory = Path.Combine(_server.DataDirectory, $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return directory;
    }

    // fetchmail reads the password from its rc file (which it wants mode 0600), keeps its lock and UID files under
    // FETCHMAILHOME, and hands every message to the MDA, which appends it to one file.
    private static async Task<(int ExitCode, string Output, string Error)> FetchmailAsync(string work, string[] options, string user, string mbox)
    {
        var rc = Path.Combine(work, "fetchmailrc");
        await File.WriteAllTextAsync(rc, $"poll {HostName} user \"{user}\" password \"{Password}\"\n");
        File.SetUnixFileMode(rc, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return await PosternProcess.RunAsync("env", [
            "FETCHMAILHOME=" + work, "fetchmail", "--nosyslog", "--nodetach", "-f", rc, "-i", Path.Combine(work, "fetchids"),
            .. options, "--mda", $"cat >> {mbox}", HostName,
        ]);
    }

    private async Task SubmitAsync(string ca, string user, string subject, string body)
    {
        var sent = await PosternProcess.RunAsync("swaks", [
            "--server", "127.0.0.1", "--port", Port(465), "--tlsc", "--tls-verify", "--tls-ca-path", ca,
            "--auth", "PLAIN", "--auth-user", user, "--auth-password", Password, "--from", user, "--to", user,
            "--header", "Subject: " + subject, "--body", body,
        ]);
        Assert.True(sent.ExitCode == 0, sent.Output + sent.Error);
    }

    private Task<string> AddUserAsync(string name) => _server.AddUserAsync(name, Password);

    private Task<string> ExportRootAsync() => _server.ExportRootAsync();
}
