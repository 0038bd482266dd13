using System.Text.Json;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Host;

/// <summary>The admin verbs as an administrator runs them, against a real `postern serve` process.</summary>
public sealed class AdminCliTests(PosternProcessFixture fixture) : IClassFixture<PosternProcessFixture>
{
    private readonly PosternProcess _server = fixture.Server;

    [Fact]
    public async Task UserAddReadsThePasswordFromStdinAndListsIt()
    {
        var added = await _server.CliAsync("s3cret-pass\n", "user", "add", "alice@example.test", "--password-stdin");
        Assert.True(added.ExitCode == 0, added.Error);

        var list = await _server.CliAsync(null, "user", "list", "--json");
        using var users = JsonDocument.Parse(list.Output);
        Assert.Contains(users.RootElement.EnumerateArray(), u => u.GetProperty("address").GetString() == "alice@example.test");
        Assert.DoesNotContain("s3cret-pass", list.Output, StringComparison.Ordinal);

        var duplicate = await _server.CliAsync("x\n", "user", "add", "alice@example.test", "--password-stdin");
        Assert.NotEqual(0, duplicate.ExitCode);
        Assert.Single(duplicate.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task AMistypedVerbGetsTheErrorAndAHintNotTheWholeUsage()
    {
        var misspelt = await _server.CliAsync(null, "ca", "issue", "--nmae", "x.example.test");
        Assert.NotEqual(0, misspelt.ExitCode);
        Assert.Contains("--nmae", misspelt.Error, StringComparison.Ordinal);
        Assert.Contains("Try 'postern ca issue --help'.", misspelt.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Usage:", misspelt.Output + misspelt.Error, StringComparison.Ordinal);

        // A group named without its verb still lists the verbs.
        var group = await _server.CliAsync(null, "user");
        Assert.NotEqual(0, group.ExitCode);
        Assert.Contains("Usage:", group.Output, StringComparison.Ordinal);
        Assert.Contains("add", group.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusalEchoingALineBreakFromTheInputIsStillOneLine()
    {
        // Every refusal is one line (a script reads the first): a name pasted with its line break is shown escaped.
        foreach (var args in new[] { new[] { "user", "add", "x\r\n@example.test", "--password-stdin" }, ["vs", "show", "No\nSuch"], ["cert", "show", "No\nSuch"] })
        {
            var refused = await _server.CliAsync("pw-line-1\n", args);
            Assert.Equal(1, refused.ExitCode);
            var line = Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("postern: ", line, StringComparison.Ordinal);
            Assert.DoesNotContain('\r', line);
        }
    }

    [Fact]
    public async Task NamesHoldingASlashOrAPercentSignAreManagedByName()
    {
        // '/' and '%' are atext (RFC 5322 §3.2.3): such a user is added, then found again by every verb that names it.
        foreach (var address in new[] { "sales/north@example.test", "p%2Fq@example.test" })
        {
            var added = await _server.CliAsync("pw-slash-1\n", "user", "add", address, "--password-stdin");
            Assert.True(added.ExitCode == 0, added.Error);
            var quota = await _server.CliAsync(null, "user", "quota", address, "1G");
            Assert.True(quota.ExitCode == 0, quota.Error);
            var passwd = await _server.CliAsync("pw-slash-2\n", "user", "passwd", address, "--password-stdin");
            Assert.True(passwd.ExitCode == 0, passwd.Error);
            var removed = await _server.CliAsync(null, "user", "remove", address);
            Assert.True(removed.ExitCode == 0, removed.Error);
        }

        var created = await _server.CliAsync(null, "vs", "create", "--name", "Sales/Support", "--protocol", "pop3", "--bind", "127.0.0.1:0");
        Assert.True(created.ExitCode == 0, created.Error);
        var stopped = await _server.CliAsync(null, "vs", "stop", "Sales/Support");
        Assert.True(stopped.ExitCode == 0, stopped.Error);
        var shown = await _server.CliAsync(null, "cert", "show", "Sales/Support");
        Assert.True(shown.ExitCode == 0, shown.Error);
        var deleted = await _server.CliAsync(null, "vs", "delete", "Sales/Support");
        Assert.True(deleted.ExitCode == 0, deleted.Error);
    }

    [Fact]
    public async Task QuotasDisabledUsersAndAliasesAreManagedFromTheCommandLineAndEnforced()
    {
        var carol = await _server.AddUserAsync("carol", "pw-carol-1");
        async Task<string> SendAsync(string to, int lines)
        {
            var body = string.Join("\n", Enumerable.Repeat(new string('q', 70), lines));
            var sent = await PosternProcess.RunAsync("swaks", ["--server", "127.0.0.1:" + _server.Port(25), "--from", "someone@outside.test", "--to", to, "--body", body]);
            return sent.Output;
        }

        // A 4 KiB quota: a 3 KB message is taken; the next, which would pass the quota, is refused (552 5.2.2, as Dovecot
        // and Exchange answer), and so is the next one at RCPT once the mailbox is full.
        var quota = await _server.CliAsync(null, "user", "quota", carol, "4K");
        Assert.True(quota.ExitCode == 0, quota.Error);
        using (var users = JsonDocument.Parse((await _server.CliAsync(null, "user", "list", "--json")).Output))
        {
            Assert.Equal(4096, users.RootElement.EnumerateArray().Single(u => u.GetProperty("address").GetString() == carol).GetProperty("quotaBytes").GetInt64());
        }

        Assert.Contains("250 2.0.0", await SendAsync(carol, 40), StringComparison.Ordinal);
        Assert.Contains($"552 5.2.2 <{carol}>: Mailbox full", await SendAsync(carol, 20), StringComparison.Ordinal);
        Assert.Equal(0, (await _server.CliAsync(null, "user", "quota", carol, "3K")).ExitCode);
        Assert.Contains($"552 5.2.2 <{carol}>: Mailbox full", await SendAsync(carol, 1), StringComparison.Ordinal);
        using (var users = JsonDocument.Parse((await _server.CliAsync(null, "user", "list", "--json")).Output))
        {
            // The listing shows what the quota counts.
            Assert.True(users.RootElement.EnumerateArray().Single(u => u.GetProperty("address").GetString() == carol).GetProperty("usedBytes").GetInt64() > 2048);
        }

        Assert.Contains("USED", (await _server.CliAsync(null, "user", "list")).Output, StringComparison.Ordinal);

        // An alias reaches the same full mailbox; it can be listed and removed.
        var alias = "team-" + carol;
        Assert.Equal(0, (await _server.CliAsync(null, "alias", "add", alias, carol)).ExitCode);
        Assert.Contains(alias, (await _server.CliAsync(null, "alias", "list")).Output, StringComparison.Ordinal);
        Assert.Contains("552 5.2.2", await SendAsync(alias, 1), StringComparison.Ordinal);
        Assert.Equal(0, (await _server.CliAsync(null, "alias", "remove", alias)).ExitCode);
        Assert.DoesNotContain(alias, (await _server.CliAsync(null, "alias", "list", "--json")).Output, StringComparison.Ordinal);
        var again = await _server.CliAsync(null, "alias", "remove", alias);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("no such alias", again.Error, StringComparison.Ordinal);

        // An alias that could lead to no mailbox here (another server's address, itself, a loop) is refused.
        foreach (var (name, target) in new[] { ("away-" + carol, "someone@remote.test"), ("self-" + carol, "self-" + carol), ("loop-a-" + carol, "loop-b-" + carol) })
        {
            var refused = await _server.CliAsync(null, "alias", "add", name, target);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("is no mailbox on this server", refused.Error, StringComparison.Ordinal);
        }

        // Nor is an alias whose address is an account's: accounts are looked up first, so it would never be used.
        var shadow = await _server.CliAsync(null, "alias", "add", carol, "alice@example.test");
        Assert.Equal(1, shadow.ExitCode);
        Assert.Contains("is an account", shadow.Error, StringComparison.Ordinal);

        // No limit again: mail is taken. A disabled user receives none; enabled again, mail is taken.
        Assert.Equal(0, (await _server.CliAsync(null, "user", "quota", carol, "none")).ExitCode);
        Assert.Contains("250 2.0.0", await SendAsync(carol, 1), StringComparison.Ordinal);
        Assert.Equal(0, (await _server.CliAsync(null, "user", "disable", carol)).ExitCode);
        Assert.Contains("550 5.1.1", await SendAsync(carol, 1), StringComparison.Ordinal);
        Assert.Equal(0, (await _server.CliAsync(null, "user", "enable", carol)).ExitCode);
        Assert.Contains("250 2.0.0", await SendAsync(carol, 1), StringComparison.Ordinal);

        var bad = await _server.CliAsync(null, "user", "quota", carol, "12X");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Single(bad.Error.Trim().Split('\n'));
        Assert.NotEqual(0, (await _server.CliAsync(null, "user", "quota", "nobody@example.test", "1M")).ExitCode);
    }

    [Fact]
    public async Task DefaultVirtualServersExistAndSecurityOptionsChangeAtRunTime()
    {
        var list = await _server.CliAsync(null, "vs", "list", "--json");
        Assert.True(list.ExitCode == 0, list.Error);
        using var servers = JsonDocument.Parse(list.Output);
        var names = servers.RootElement.EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Contains("Default HTTP Virtual Server", names);

        var set = await _server.CliAsync(null, "vs", "set", "Default HTTP Virtual Server", "--require-128bit", "on", "--min-tls", "1.3", "--json");
        Assert.True(set.ExitCode == 0, set.Error);
        using var changed = JsonDocument.Parse(set.Output);
        Assert.True(changed.RootElement.GetProperty("security").GetProperty("require128BitEncryption").GetBoolean());
        Assert.Equal("1.3", changed.RootElement.GetProperty("security").GetProperty("minimumTlsVersion").GetString());
        Assert.NotEmpty(changed.RootElement.GetProperty("bindings").EnumerateArray());

        // At once on the HTTP virtual server too (Kestrel serves it): a TLS 1.2 client is refused, a TLS 1.3 one served.
        var tls12 = await PosternProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{_server.Port(443)}", "-tls1_2"], "Q\n");
        Assert.DoesNotContain("New, TLSv1.2", tls12.Output, StringComparison.Ordinal);
        var tls13 = await PosternProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{_server.Port(443)}", "-tls1_3"], "Q\n");
        Assert.Contains("New, TLSv1.3", tls13.Output, StringComparison.Ordinal);
        Assert.Equal(0, (await _server.CliAsync(null, "vs", "set", "Default HTTP Virtual Server", "--min-tls", "1.2")).ExitCode);

        var bad = await _server.CliAsync(null, "vs", "set", "No Such Server", "--require-128bit", "on");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("no such virtual server", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LimitsAndSettingsAreConfigurableAndValidated()
    {
        var set = await _server.CliAsync(null, "vs", "set", "Default POP3 Virtual Server", "--limit", "maxConnectionsPerAddress=7", "idleTimeoutSeconds=90", "--setting", "pop3.retr-chunk-size=8192", "--json");
        Assert.True(set.ExitCode == 0, set.Error);
        using var changed = JsonDocument.Parse(set.Output);
        Assert.Equal(7, changed.RootElement.GetProperty("limits").GetProperty("maxConnectionsPerAddress").GetInt32());
        Assert.Equal(90, changed.RootElement.GetProperty("limits").GetProperty("idleTimeoutSeconds").GetInt32());
        Assert.Equal("8192", changed.RootElement.GetProperty("settings").GetProperty("pop3.retr-chunk-size").GetString());

        var unknown = await _server.CliAsync(null, "vs", "set", "Default POP3 Virtual Server", "--limit", "noSuchLimit=1");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown limit", unknown.Error, StringComparison.Ordinal);

        var tooSmall = await _server.CliAsync(null, "vs", "set", "Default POP3 Virtual Server", "--limit", "maxLineLength=10");
        Assert.Equal(1, tooSmall.ExitCode);
        Assert.Contains("limits must be positive", tooSmall.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SettingsOptionsAndRoutesThatCouldNeverWorkAreRefusedInOneLine()
    {
        // Each of these was once stored as given and then ignored, or failed only when mail came to use it.
        (string[] Args, string Why)[] refused =
        [
            (["vs", "set", "Default SMTP Virtual Server", "--setting", "smtp.max-text-line=abc"], "takes a whole number from 1000"),
            (["vs", "set", "Default SMTP Virtual Server", "--setting", "smtp.dkim-max-signatures=999"], "from 0 to 50"),
            (["vs", "set", "Default SMTP Virtual Server", "--setting", "foo.bar=1"], "unknown setting 'foo.bar' for an SMTP virtual server"),
            (["vs", "set", "Default POP3 Virtual Server", "--setting", "smtp.max-hops=5"], "unknown setting 'smtp.max-hops' for a POP3"),
            (["vs", "set", "Default IMAP4 Virtual Server", "--require-auth", "on"], "always requires a logon"),
            (["vs", "show", ""], "must not be empty"),
            (["vs", "set", "Default IMAP4 Virtual Server", "--bind", "127.0.0.1:143", "127.0.0.1:143/tls"], "is given twice"),
            (["vs", "set", "Default IMAP4 Virtual Server", "--client-certificates", "bogus"], "Accepted, Off, Required"),
            (["route", "add", "bad-host.test", "host:abc"], "is not HOST, HOST:PORT"),
            (["route", "add", "bad-host.test", "a b"], "is not a host name or an IP address"),
            (["route", "add", "bad-host.test", "mx.bad-host.test", "--verify"], "needs TLS required"),
            (["public-folder", "add", "../../etc"], "invalid folder path"),
            (["public-folder", "add", "Lists/*/Wild"], "invalid folder path"),
            (["ca", "issue", "--name", "both.example.test", "--user", "alice@example.test"], "either --name"),
            (["ca", "subordinate", "request", "--cn", "Sub", "--org", "Example", "--key", "dsa"], "unknown key type 'dsa'"),
            (["cert", "request", "Default POP3 Virtual Server", "--offline", "--org", "", "--cn", "mail.example.test", "--country", "GB", "--out", Path.Combine(_server.DataDirectory, "never.txt")], "--org must not be empty"),
        ];
        foreach (var (args, why) in refused)
        {
            var result = await _server.CliAsync(null, args);
            Assert.True(result.ExitCode == 1, string.Join(' ', args) + ": " + result.Output);
            Assert.Contains(why, result.Error, StringComparison.Ordinal);
            Assert.Single(result.Error.Trim().Split('\n'));
            Assert.DoesNotContain("Exception", result.Error, StringComparison.Ordinal);
        }

        var settings = await _server.CliAsync(null, "vs", "show", "Default SMTP Virtual Server", "--json");
        Assert.DoesNotContain("foo.bar", settings.Output, StringComparison.Ordinal);

        // An IPv6 next hop, in Postfix's [address]:port form, is kept whole.
        var v6 = await _server.CliAsync(null, "route", "add", "v6-hop.test", "[::1]:2525", "--json");
        Assert.True(v6.ExitCode == 0, v6.Error);
        using (var route = JsonDocument.Parse(v6.Output))
        {
            Assert.Equal("::1", route.RootElement.GetProperty("host").GetString());
            Assert.Equal(2525, route.RootElement.GetProperty("port").GetInt32());
        }

        Assert.Equal(0, (await _server.CliAsync(null, "route", "remove", "v6-hop.test")).ExitCode);

        // An argument starting with '@' is an address, not a response file to read arguments from.
        var at = await _server.CliAsync("a-good-password-1\n", "user", "add", "@example.test", "--password-stdin");
        Assert.Equal(1, at.ExitCode);
        Assert.DoesNotContain("Response file", at.Error, StringComparison.Ordinal);
        Assert.Single(at.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task AVirtualServerOnAPortAnotherListensOnStaysDownAndNoOneSharesThePort()
    {
        // A second NNTP virtual server on the default one's 563 is refused, as Exchange refuses a binding another
        // virtual server holds: it could only fail to listen. So is moving IMAP onto SMTP's 25.
        var created = await _server.CliAsync(null, "vs", "create", "--name", "Second NNTP on 563", "--protocol", "nntp", "--bind", "127.0.0.1:563/tls");
        Assert.Equal(1, created.ExitCode);
        Assert.Contains("already bound by \"Default NNTP Virtual Server\"", created.Error, StringComparison.Ordinal);
        Assert.Single(created.Error.Trim().Split('\n'));
        var moved = await _server.CliAsync(null, "vs", "set", "Default IMAP4 Virtual Server", "--bind", "0.0.0.0:25");
        Assert.Equal(1, moved.ExitCode);
        Assert.Contains("Default SMTP Virtual Server", moved.Error, StringComparison.Ordinal);
        var imap = await _server.CliAsync(null, "vs", "show", "Default IMAP4 Virtual Server", "--json");
        using (var shown = JsonDocument.Parse(imap.Output))
        {
            Assert.All(shown.RootElement.GetProperty("bindings").EnumerateArray(), b => Assert.True(b.GetProperty("listening").GetBoolean()));
        }

        // A port another process holds: the change is saved, but the command says the binding is down and fails.
        var offset = _server.Port(563) - 563;
        System.Net.Sockets.TcpListener? holder = null;
        var held = 0;
        for (var port = 1190; holder is null && port < 1290; port++)
        {
            try
            {
                holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, offset + port);
                holder.Start();
                held = port;
            }
            catch (System.Net.Sockets.SocketException)
            {
                holder = null;
            }
        }

        Assert.NotNull(holder);
        using (holder)
        {
            var down = await _server.CliAsync(null, "vs", "set", "Default NNTP Virtual Server", "--bind", "127.0.0.1:119", "127.0.0.1:563/tls", $"127.0.0.1:{held}/tls");
            Assert.Equal(1, down.ExitCode);
            Assert.Contains($"127.0.0.1:{offset + held} is not listening", down.Error, StringComparison.Ordinal);
            Assert.Equal(0, (await _server.CliAsync(null, "vs", "set", "Default NNTP Virtual Server", "--bind", "127.0.0.1:119", "127.0.0.1:563/tls")).ExitCode);
        }

        // Nor can another process bind a listening port, even asking for SO_REUSEPORT (.NET's ReuseAddress on Linux).
        using var thief = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        thief.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
        Assert.Throws<System.Net.Sockets.SocketException>(() => thief.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, _server.Port(110))));
    }

    // Ports that no standard port of another test's server (offsets are multiples of 100) can be: 1143 was another
    // server's 143 when its offset was ours + 1000, which greeted and never said goodbye.
    [Theory]
    [InlineData("pop3", 1150, "-ERR [SYS/TEMP] Server shutting down")]
    [InlineData("imap", 1151, "* BYE Server shutting down")]
    [InlineData("smtp", 1152, "421 4.3.2 mail.example.test Service shutting down, closing transmission channel")]
    [InlineData("nntp", 1153, "400 Service discontinued")]
    public async Task StoppingAVirtualServerTellsItsOpenSessionsWhyTheyAreClosed(string protocol, int port, string goodbye)
    {
        var name = "Goodbye " + protocol;
        var created = await _server.CliAsync(null, "vs", "create", "--name", name, "--protocol", protocol, "--bind", "127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(created.ExitCode == 0, created.Error);
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, _server.Port(port));
            using var reader = new StreamReader(client.GetStream(), System.Text.Encoding.ASCII);
            Assert.NotNull(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));

            var stopped = await _server.CliAsync(null, "vs", "stop", name);
            Assert.True(stopped.ExitCode == 0, stopped.Error);
            Assert.Equal(goodbye, await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Null(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            Assert.Equal(0, (await _server.CliAsync(null, "vs", "delete", name)).ExitCode);
        }
    }

    [Fact]
    public async Task AVirtualServerNameThatCouldNotBeGivenBackIsRefused()
    {
        foreach (var name in new[] { "Evil\nSecond line", "Tab\there", new string('N', 129), "42" })
        {
            var refused = await _server.CliAsync(null, "vs", "create", "--name", name, "--protocol", "nntp", "--bind", "127.0.0.1:0");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("virtual server name", Assert.Single(refused.Error.Trim().Split('\n')), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheHttpVirtualServerThatCarriesTheConsoleCannotBeStoppedDeletedOrDuplicated()
    {
        const string Http = "Default HTTP Virtual Server";
        foreach (var args in new[]
        {
            new[] { "vs", "stop", Http },
            ["vs", "delete", Http],
            ["vs", "create", "--name", "Second console", "--protocol", "http", "--bind", "127.0.0.1:0/tls"],
        })
        {
            var refused = await _server.CliAsync(null, args);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("HTTP virtual server carries the admin API", Assert.Single(refused.Error.Trim().Split('\n')), StringComparison.Ordinal);
        }

        var listed = await _server.CliAsync(null, "vs", "list", "--json");
        Assert.Equal(0, listed.ExitCode);
        Assert.DoesNotContain("Second console", listed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABindingThePortOffsetPushesPast65535IsRefusedAndBreaksNothing()
    {
        var refused = await _server.CliAsync(null, "vs", "create", "--name", "Too High", "--protocol", "pop3", "--bind", "127.0.0.1:65535");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("out of range", Assert.Single(refused.Error.Trim().Split('\n')), StringComparison.Ordinal);

        var changed = await _server.CliAsync(null, "vs", "set", "Default POP3 Virtual Server", "--bind", "127.0.0.1:65535");
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("out of range", changed.Error, StringComparison.Ordinal);

        var list = await _server.CliAsync(null, "vs", "list", "--json");
        Assert.True(list.ExitCode == 0, list.Error);
        using var servers = JsonDocument.Parse(list.Output);
        Assert.DoesNotContain(servers.RootElement.EnumerateArray(), s => s.GetProperty("name").GetString() == "Too High");
    }

    [Fact]
    public async Task CaExportGivesTheRootThatSignsTheServedCertificate()
    {
        var file = Path.Combine(_server.DataDirectory, "exported.pem");
        var export = await _server.CliAsync(null, "ca", "export", "--out", file);
        Assert.True(export.ExitCode == 0, export.Error);
        var root = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(file));
        Assert.Equal(_server.Root.Thumbprint, root.Thumbprint);

        // The HTTPS virtual server's certificate chains to that root (openssl as an independent client).
        var verify = await PosternProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{_server.Port(443)}", "-servername", "mail.example.test", "-CAfile", file, "-verify_return_error", "-verify_hostname", "mail.example.test"], "Q\n");
        Assert.Contains("Verify return code: 0 (ok)", verify.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileThatCannotBeReadOrWrittenIsRefusedInOneLine()
    {
        var missingFolder = Path.Combine(_server.DataDirectory, "no-such-folder", "ca.pem");
        var empty = Path.Combine(_server.DataDirectory, "empty.cer");
        await File.WriteAllBytesAsync(empty, []);
        var garbage = Path.Combine(_server.DataDirectory, "garbage.cer");
        await File.WriteAllTextAsync(garbage, "not a certificate\n");
        var badPem = Path.Combine(_server.DataDirectory, "bad.pem");
        await File.WriteAllTextAsync(badPem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        foreach (var args in new[]
        {
            new[] { "ca", "export", "--out", missingFolder },
            ["ca", "crl", "--out", _server.DataDirectory],
            ["ca", "submit", "--file", Path.Combine(_server.DataDirectory, "no-such-request.csr")],

            // An empty file (a download that failed) and one that is no certificate at all.
            ["user", "cert", "map", "somebody@example.test", "--file", empty],
            ["user", "cert", "map", "somebody@example.test", "--file", garbage],
            ["user", "cert", "map", "somebody@example.test", "--file", badPem],
            ["cert", "install", "Default POP3 Virtual Server", "--file", empty],
            ["ca", "trust", "add", "--file", empty],
        })
        {
            var refused = await _server.CliAsync(null, args);
            Assert.Equal(1, refused.ExitCode);
            var line = Assert.Single(refused.Error.Trim().Split('\n'));
            Assert.StartsWith("postern: ", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnOutFileThatCannotBeWrittenIsRefusedBeforeTheServerIssuesOrPrepares()
    {
        var missingFolder = Path.Combine(_server.DataDirectory, "no-such-folder");
        var issuedBefore = (await _server.CliAsync(null, "ca", "issued", "--json")).Output;

        var issue = await _server.CliAsync("pfx-password\n", "ca", "issue", "--name", "nowhere.example.test", "--out", Path.Combine(missingFolder, "x.pfx"), "--password-stdin");
        Assert.Equal(1, issue.ExitCode);
        Assert.StartsWith("postern: ", Assert.Single(issue.Error.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.Equal(issuedBefore, (await _server.CliAsync(null, "ca", "issued", "--json")).Output);

        var request = await _server.CliAsync(null, "cert", "request", "Default POP3 Virtual Server", "--offline", "--org", "Example Org", "--cn", "pop.example.test",
            "--country", "DE", "--out", Path.Combine(missingFolder, "certreq.txt"));
        Assert.Equal(1, request.ExitCode);
        Assert.NotEqual(0, (await _server.CliAsync(null, "cert", "pending", "Default POP3 Virtual Server")).ExitCode);

        // Nor is a CRL published (a CRL number spent) for a file that cannot be written, a folder given as --out included.
        static long CrlNumber(string json)
        {
            using var shown = JsonDocument.Parse(json);
            return shown.RootElement.GetProperty("crlNumber").GetInt64();
        }

        var crlBefore = CrlNumber((await _server.CliAsync(null, "ca", "show", "--json")).Output);
        foreach (var output in new[] { Path.Combine(missingFolder, "ca.crl"), _server.DataDirectory })
        {
            var crl = await _server.CliAsync(null, "ca", "crl", "--out", output);
            Assert.Equal(1, crl.ExitCode);
            Assert.StartsWith("postern: ", Assert.Single(crl.Error.Trim().Split('\n')), StringComparison.Ordinal);
        }

        Assert.Equal(crlBefore, CrlNumber((await _server.CliAsync(null, "ca", "show", "--json")).Output));
        Assert.Contains("is a directory", (await _server.CliAsync(null, "ca", "export", "--out", _server.DataDirectory)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_organization_names_the_store_the_server_runs_on()
    {
        using var admin = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "admin.json")));
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => _server.ChainsToRoot(this, certificate, null, default) };
        using var http = new HttpClient(handler);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin.RootElement.GetProperty("token").GetString());
        using var organization = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/organization")));
        Assert.Equal("First Administrative Group", organization.RootElement.GetProperty("administrativeGroup").GetString());
        Assert.Equal(Postern.Tests.TestStoreOptions.PostgresServer is null ? "sqlite" : "postgresql", organization.RootElement.GetProperty("store").GetString());
    }

    [Fact]
    public async Task RequestBodiesMissingAFieldOrHoldingNullsAreRefusedAndStoreNothing()
    {
        using var admin = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "admin.json")));
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin.RootElement.GetProperty("token").GetString());
        async Task<System.Net.HttpStatusCode> Send(string method, string path, string json)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
            return (await http.SendAsync(request)).StatusCode;
        }

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, await Send("POST", "users", "{\"password\":\"pw-no-address\"}"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, await Send("POST", "users", "{\"address\":null,\"password\":\"pw-null-address\"}"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, await Send("PUT", "ca/mode", "{}"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, await Send("POST", "ca/revoke", "{}"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, await Send("POST", "virtual-servers", "{\"name\":\"Null Binding\",\"protocol\":\"Nntp\",\"bindings\":[null]}"));
        foreach (var change in new[] { "{\"relayAddresses\":[null]}", "{\"relayAddresses\":[\"10.0.0.0/33\"]}", "{\"authenticationMethods\":[null]}", "{\"authenticationMethods\":[\"PLAIN LOGIN\"]}" })
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, await Send("PATCH", "virtual-servers/Default%20SMTP%20Virtual%20Server", change));
        }

        // Nothing of that was stored: the SMTP virtual server still greets.
        using var smtp = new System.Net.Sockets.TcpClient();
        await smtp.ConnectAsync("127.0.0.1", _server.Port(25));
        using var reader = new StreamReader(smtp.GetStream());
        Assert.StartsWith("220 ", await reader.ReadLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedApiRequestsSayWhyInTheJsonErrorBody()
    {
        // The console shows the answer's "error" (over HTTP/2 there is no status text to fall back on): a request the
        // framework refuses before the endpoint runs must say why as well, not answer an empty 400, 405, 413 or 415.
        using var admin = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "admin.json")));
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin.RootElement.GetProperty("token").GetString());
        async Task<(System.Net.HttpStatusCode Status, string? Error)> Send(string method, string path, string? body, string mediaType = "application/json")
        {
            // Expect: 100-continue, so that a body refused for its length is not sent into a connection the server closes.
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Headers = { ExpectContinue = true } };
            if (body is not null)
            {
                request.Content = new StringContent(body, System.Text.Encoding.UTF8, mediaType);
            }

            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"{method} {path}: {(int)response.StatusCode} with '{text}'");
            using var json = JsonDocument.Parse(text);
            return (response.StatusCode, json.RootElement.GetProperty("error").GetString());
        }

        const string smtp = "virtual-servers/Default%20SMTP%20Virtual%20Server";
        var malformed = await Send("PATCH", smtp, "{\"requireSecureChannel\": tru");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, malformed.Status);
        Assert.Contains("JSON", malformed.Error, StringComparison.Ordinal);

        var empty = await Send("PATCH", smtp, "");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, empty.Status);
        Assert.Contains("JSON body", empty.Error, StringComparison.Ordinal);

        var missing = await Send("POST", "users", "{\"password\":\"pw-no-address\"}");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, missing.Status);
        Assert.Contains("address", missing.Error, StringComparison.Ordinal);

        // A misspelt option must not answer 200 and change nothing: that one would have left clear text allowed.
        var misspelt = await Send("PATCH", smtp, "{\"requireSecureChanel\": true}");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, misspelt.Status);
        Assert.Contains("requireSecureChanel", misspelt.Error, StringComparison.Ordinal);

        var notJson = await Send("PATCH", smtp, "requireSecureChannel=on", "application/x-www-form-urlencoded");
        Assert.Equal(System.Net.HttpStatusCode.UnsupportedMediaType, notJson.Status);
        Assert.False(string.IsNullOrWhiteSpace(notJson.Error));

        var wrongMethod = await Send("DELETE", "virtual-servers", null);
        Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, wrongMethod.Status);
        Assert.Contains("DELETE", wrongMethod.Error, StringComparison.Ordinal);

        var tooLarge = await Send("POST", "domains", "{\"name\": \"" + new string('a', 2 * 1024 * 1024) + "\"}");
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, tooLarge.Status);
        Assert.False(string.IsNullOrWhiteSpace(tooLarge.Error));

        var noRoute = await Send("GET", "no-such-thing", null);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, noRoute.Status);
        Assert.False(string.IsNullOrWhiteSpace(noRoute.Error));

        // Without the token, nothing is told about which resources and methods exist.
        http.DefaultRequestHeaders.Authorization = null;
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Send("DELETE", "virtual-servers", null)).Status);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Send("GET", "no-such-thing", null)).Status);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Send("GET", "virtual-servers", null)).Status);
    }

    [Fact]
    public async Task ApiAnswersAreNeverStoredByABrowserOrProxy()
    {
        using var admin = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "admin.json")));
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => _server.ChainsToRoot(this, certificate, null, default) };
        using var http = new HttpClient(handler);
        var refused = await http.GetAsync(new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/users"));
        Assert.True(refused.Headers.CacheControl?.NoStore, "a refusal without no-store");

        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin.RootElement.GetProperty("token").GetString());
        var users = await http.GetAsync(new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/users"));
        Assert.Equal(System.Net.HttpStatusCode.OK, users.StatusCode);
        Assert.True(users.Headers.CacheControl?.NoStore, "an answer without no-store");
    }

    [Fact]
    public async Task The_api_describes_itself_and_docs_openapi_json_is_that_description()
    {
        var served = await PosternProcess.RunAsync("curl", ["-sf", "--cacert", _server.RootPemPath, "--resolve", $"mail.example.test:{_server.Port(443)}:127.0.0.1",
            $"https://mail.example.test:{_server.Port(443)}/api/v1/openapi.json"]);
        Assert.True(served.ExitCode == 0, served.Error);
        var document = System.Text.Json.Nodes.JsonNode.Parse(served.Output)!;
        Assert.Equal("Postern admin API", (string?)document["info"]!["title"]);
        Assert.NotNull(document["paths"]!["/api/v1/stats"]);
        Assert.Null(document["paths"]!["/autodiscover/autodiscover.xml"]);

        // The committed copy must not drift from the code: refresh it with
        // curl -sk https://127.0.0.1:10443/api/v1/openapi.json | python3 -m json.tool --indent 2 > docs/openapi.json
        var committed = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "openapi.json")));
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(document, committed), "docs/openapi.json differs from the API the server describes");
    }

    [Fact]
    public async Task AdminApiRefusesMissingTokenAndClearText()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        var noToken = await http.GetAsync(new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/users"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("Bearer", Assert.Single(noToken.Headers.WwwAuthenticate).Scheme); // RFC 9110 §11.6.1

        var clear = await http.GetAsync(new Uri($"http://127.0.0.1:{_server.Port(80)}/api/v1/users"));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, clear.StatusCode);

        // Refused before the body is read: a caller without the token gets 401, not the parser's 400 for its JSON.
        using var malformed = new StringContent("{\"name\": [" + new string('[', 100_000), System.Text.Encoding.UTF8, "application/json");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.PostAsync(new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/domains"), malformed)).StatusCode);

        // With the token, a body is bounded (1 MiB; the largest real one is a certificate file in base64).
        using var admin = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "admin.json")));
        using var authorized = new HttpRequestMessage(HttpMethod.Post, new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/domains"))
        {
            Content = new StringContent("{\"name\": \"" + new string('a', 2 * 1024 * 1024) + "\"}", System.Text.Encoding.UTF8, "application/json"),
        };
        authorized.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin.RootElement.GetProperty("token").GetString());

        // Expect: 100-continue, as a client sending a large body should: the 413 comes before the body is sent, so no
        // race with the server closing the connection while the client still writes it.
        authorized.Headers.ExpectContinue = true;
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, (await http.SendAsync(authorized)).StatusCode);

        // RFC 9110 §11.1: the scheme name is case-insensitive.
        using var lowercase = new HttpRequestMessage(HttpMethod.Get, new Uri($"https://127.0.0.1:{_server.Port(443)}/api/v1/users"));
        lowercase.Headers.TryAddWithoutValidation("Authorization", "bearer " + admin.RootElement.GetProperty("token").GetString());
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.SendAsync(lowercase)).StatusCode);

        // The CRL is published in clear, as CRL distribution points are.
        var crl = await http.GetAsync(new Uri($"http://127.0.0.1:{_server.Port(80)}/pki/ca.crl"));
        Assert.Equal("application/pkix-crl", crl.Content.Headers.ContentType?.MediaType);

        // RFC 9110 §9.1: HEAD as GET, without the body.
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri($"http://127.0.0.1:{_server.Port(80)}/pki/ca.crl")));
        Assert.Equal(System.Net.HttpStatusCode.OK, head.StatusCode);
        Assert.Equal((await crl.Content.ReadAsByteArrayAsync()).Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task WebConsoleIsServedOverTlsWithALockedDownPolicy()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        var page = await http.GetAsync(new Uri($"https://127.0.0.1:{_server.Port(443)}/"));
        Assert.Contains("Postern System Manager", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var script = await http.GetStringAsync(new Uri($"https://127.0.0.1:{_server.Port(443)}/console.js"));
        Assert.Contains("/api/v1/", script, StringComparison.Ordinal);

        // Not in clear text (the console would send the token there): the clear-text binding sends the browser to TLS.
        using var noRedirects = new HttpClientHandler { AllowAutoRedirect = false };
        using var clearHttp = new HttpClient(noRedirects);
        foreach (var path in new[] { "/", "/console.js" })
        {
            var clear = await clearHttp.GetAsync(new Uri($"http://127.0.0.1:{_server.Port(80)}{path}"));
            Assert.Equal(System.Net.HttpStatusCode.TemporaryRedirect, clear.StatusCode);
            Assert.Equal(new Uri($"https://127.0.0.1:{_server.Port(443)}/"), clear.Headers.Location);
        }
    }

    [Fact]
    public async Task QueuedMailIsListedFlushedAndDeletedFromTheCommandLine()
    {
        // A route to a port where nothing listens: the message waits in the queue.
        var domain = $"q{Guid.NewGuid():N}"[..12] + ".example.net";
        Assert.Equal(0, (await _server.CliAsync(null, "route", "add", domain, "127.0.0.1:9", "--tls", "none")).ExitCode);
        var sender = await _server.AddUserAsync("queuer", "pw-queue-1");
        var sent = await PosternProcess.RunAsync("swaks", ["--server", "127.0.0.1:" + _server.Port(587), "--tls", "--auth", "PLAIN", "--auth-user", sender, "--auth-password", "pw-queue-1",
            "--from", sender, "--to", "someone@" + domain, "--body", "waits"]);
        Assert.Contains("250 2.0.0", sent.Output, StringComparison.Ordinal);

        long id = 0;
        for (var attempt = 0; attempt < 50 && id == 0; attempt++)
        {
            using var queued = JsonDocument.Parse((await _server.CliAsync(null, "queue", "list", "--json")).Output);
            id = queued.RootElement.EnumerateArray()
                .Where(q => q.GetProperty("recipients").EnumerateArray().Any(r => r.GetProperty("address").GetString() == "someone@" + domain))
                .Select(q => q.GetProperty("id").GetInt64()).FirstOrDefault();
            await Task.Delay(100);
        }

        Assert.NotEqual(0, id);
        var flush = await _server.CliAsync(null, "queue", "flush");
        Assert.True(flush.ExitCode == 0, flush.Error);
        Assert.Matches(@"^[1-9]\d* queued message\(s\) will be tried now", flush.Output);
        Assert.Equal(0, (await _server.CliAsync(null, "queue", "delete", id.ToString(System.Globalization.CultureInfo.InvariantCulture))).ExitCode);
        Assert.DoesNotContain("someone@" + domain, (await _server.CliAsync(null, "queue", "list", "--json")).Output, StringComparison.Ordinal);
        Assert.Equal(0, (await _server.CliAsync(null, "route", "remove", domain)).ExitCode);
    }

    [Fact]
    public async Task MailClientsFindTheirSettingsByAutoconfigAndAutodiscover()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        var root = $"https://127.0.0.1:{_server.Port(443)}";

        // Thunderbird: IMAP and POP3 with implicit TLS first, then STARTTLS; SMTP submission only (465, 587), never 25.
        var config = System.Xml.Linq.XDocument.Parse(await http.GetStringAsync(new Uri(root + "/.well-known/autoconfig/mail/config-v1.1.xml")));
        Assert.Equal(config.ToString(), System.Xml.Linq.XDocument.Parse(await http.GetStringAsync(new Uri(root + "/mail/config-v1.1.xml"))).ToString());
        var servers = config.Descendants().Where(e => e.Name.LocalName is "incomingServer" or "outgoingServer")
            .Select(e => $"{e.Attribute("type")!.Value} {e.Element("hostname")!.Value}:{e.Element("port")!.Value} {e.Element("socketType")!.Value}").ToList();
        Assert.Equal(
            [$"imap mail.example.test:{_server.Port(993)} SSL", $"imap mail.example.test:{_server.Port(143)} STARTTLS", $"pop3 mail.example.test:{_server.Port(995)} SSL",
             $"pop3 mail.example.test:{_server.Port(110)} STARTTLS", $"smtp mail.example.test:{_server.Port(465)} SSL", $"smtp mail.example.test:{_server.Port(587)} STARTTLS"],
            servers);

        // Outlook (and Exchange's own clients): one protocol entry of each kind, with the address as login name.
        using var request = new StringContent("""
            <?xml version="1.0" encoding="utf-8"?>
            <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
              <Request><EMailAddress>dana@example.test</EMailAddress>
              <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>
            </Autodiscover>
            """, System.Text.Encoding.UTF8, "text/xml");
        var answer = await http.PostAsync(new Uri(root + "/Autodiscover/Autodiscover.xml"), request);
        var discovered = System.Xml.Linq.XDocument.Parse(await answer.Content.ReadAsStringAsync());
        var protocols = discovered.Descendants().Where(e => e.Name.LocalName == "Protocol")
            .Select(p => string.Join(' ', p.Elements().Where(e => e.Name.LocalName is "Type" or "Port" or "LoginName" or "Encryption").Select(e => e.Value))).ToList();
        Assert.Equal([$"IMAP {_server.Port(993)} dana@example.test SSL", $"POP3 {_server.Port(995)} dana@example.test SSL", $"SMTP {_server.Port(465)} dana@example.test SSL"], protocols);

        // A request with a DTD is not expanded (no external entities): the answer simply names no login.
        using var hostile = new StringContent("<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a><EMailAddress>&e;</EMailAddress></a>");
        var refused = await (await http.PostAsync(new Uri(root + "/autodiscover/autodiscover.xml"), hostile)).Content.ReadAsStringAsync();
        Assert.DoesNotContain("root:", refused, StringComparison.Ordinal);
        Assert.Contains("<LoginName></LoginName>", refused, StringComparison.Ordinal);

        // A request over 64 KiB is not read further: still an answer, with no login.
        using var large = new StringContent("<a><EMailAddress>dana@example.test</EMailAddress>" + new string(' ', 200 * 1024) + "</a>");
        var bounded = await http.PostAsync(new Uri(root + "/autodiscover/autodiscover.xml"), large);
        Assert.True(bounded.IsSuccessStatusCode);
        Assert.Contains("<LoginName></LoginName>", await bounded.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminCredentialsFileIsPrivate()
    {
        var mode = File.GetUnixFileMode(Path.Combine(_server.DataDirectory, "admin.json"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        await Task.CompletedTask;
    }
}
