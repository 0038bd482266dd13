using System.Text.Json;
using MailKit.Net.Imap;
using MailKit.Security;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Host;

/// <summary>`postern stats` and GET /api/v1/stats: what a fresh server counts after a few sessions.</summary>
public sealed class StatsTests
{
    private const string Password = "a-good-password";

    [Fact]
    public async Task A_message_sent_and_a_failed_imap_logon_are_counted_in_stats_and_in_the_prometheus_text()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test");
        var user = await server.AddUserAsync("stats", Password);

        await server.SubmitToSelfAsync(user, Password, "counted", "one");

        using (var imap = new ImapClient { CheckCertificateRevocation = false, ServerCertificateValidationCallback = server.ChainsToRoot })
        {
            await imap.ConnectAsync("127.0.0.1", server.Port(993), SecureSocketOptions.SslOnConnect);
            await Assert.ThrowsAsync<AuthenticationException>(() => imap.AuthenticateAsync(user, "not-the-password"));
        }

        // The IMAP connection is counted as closed once the server has seen it go.
        JsonElement imapStats = default, smtpStats = default;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            var stats = await server.CliAsync(null, "stats", "--json");
            Assert.True(stats.ExitCode == 0, stats.Error);
            var protocols = JsonDocument.Parse(stats.Output).RootElement.GetProperty("protocols").EnumerateArray().ToList();
            smtpStats = protocols.Single(p => p.GetProperty("protocol").GetString() == "smtp");
            imapStats = protocols.Single(p => p.GetProperty("protocol").GetString() == "imap");
            if (imapStats.GetProperty("connectionsActive").GetInt64() == 0)
            {
                break;
            }
        }

        Assert.Equal(1, smtpStats.GetProperty("connectionsAccepted").GetInt64());
        Assert.Equal(1, smtpStats.GetProperty("tlsHandshakes").GetInt64());
        Assert.Equal(1, smtpStats.GetProperty("logonsSucceeded").GetInt64());
        Assert.Equal(1, smtpStats.GetProperty("itemCount").GetInt64());
        Assert.Equal("messages.accepted", smtpStats.GetProperty("items").GetString());
        Assert.Equal(1, imapStats.GetProperty("connectionsAccepted").GetInt64());
        Assert.Equal(0, imapStats.GetProperty("connectionsActive").GetInt64());
        Assert.Equal(0, imapStats.GetProperty("logonsSucceeded").GetInt64());
        // MailKit tries each mechanism the server offers before it gives up: every try is a failed logon.
        var failedLogons = imapStats.GetProperty("logonsFailed").GetInt64();
        Assert.InRange(failedLogons, 1, 4);

        var table = await server.CliAsync(null, "stats");
        Assert.Contains("1 messages accepted", table.Output, StringComparison.Ordinal);

        using var admin = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "admin.json")));
        var prometheus = await PosternProcess.RunAsync("curl", ["-sf", "--cacert", server.RootPemPath, "--resolve", $"mail.example.test:{server.Port(443)}:127.0.0.1",
            "-H", "Authorization: Bearer " + admin.RootElement.GetProperty("token").GetString(), $"https://mail.example.test:{server.Port(443)}/api/v1/stats?format=prometheus"]);
        Assert.True(prometheus.ExitCode == 0, prometheus.Error);
        Assert.Contains("# TYPE postern_logons_total counter", prometheus.Output, StringComparison.Ordinal);
        Assert.Contains($"postern_logons_total{{protocol=\"imap\",result=\"failed\"}} {failedLogons}\n", prometheus.Output, StringComparison.Ordinal);
        Assert.Contains("postern_items_total{protocol=\"smtp\",item=\"messages.accepted\"} 1\n", prometheus.Output, StringComparison.Ordinal);

        // Without the token the counters are not shown.
        var anonymous = await PosternProcess.RunAsync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", server.RootPemPath, "--resolve", $"mail.example.test:{server.Port(443)}:127.0.0.1",
            $"https://mail.example.test:{server.Port(443)}/api/v1/stats?format=prometheus"]);
        Assert.Equal("401", anonymous.Output);
    }

    [Fact]
    public async Task A_first_tls_record_that_is_no_client_hello_is_a_failed_handshake_not_a_server_fault()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test");

        // A TLS alert, change-cipher-spec and application-data record where the ClientHello belongs.
        byte[][] records = [[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28], [0x14, 0x03, 0x03, 0x00, 0x01, 0x01], [0x17, 0x03, 0x03, 0x00, 0x05, .. "hello"u8]];
        foreach (var record in records)
        {
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, server.Port(993));
            var stream = client.GetStream();
            await stream.WriteAsync(record);
            var buffer = new byte[64];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
                // Whatever alert the server sends, then the close.
            }
        }

        long failed = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline && failed < records.Length; await Task.Delay(100))
        {
            var stats = await server.CliAsync(null, "stats", "--json");
            failed = JsonDocument.Parse(stats.Output).RootElement.GetProperty("protocols").EnumerateArray()
                .Single(p => p.GetProperty("protocol").GetString() == "imap").GetProperty("tlsFailures").GetInt64();
        }

        Assert.Equal(records.Length, failed);
        Assert.DoesNotContain("[2003]", server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("NotSupportedException", server.Log, StringComparison.Ordinal);
    }
}
