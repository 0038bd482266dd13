using System.Text.Json;
using Postern.IntegrationTests.Infrastructure;

namespace Postern.IntegrationTests.Pki;

/// <summary>The CA's limits set by the administrator with `postern serve --pki-limit NAME=VALUE`.</summary>
public sealed class PkiLimitsTests
{
    [Fact]
    public async Task AValidityGivenAtServeIsTheValidityOfTheCertificatesIssued()
    {
        await using var server = await PosternProcess.StartAsync("mail.example.test", extraArguments: ["--pki-limit", "client-certificate-days=10", "server-certificate-days=20", "renewal-window-days=5"]);
        var user = await server.CliAsync(null, "ca", "issue", "--user", "erin@example.test", "--json");
        Assert.True(user.ExitCode == 0, user.Error);
        var host = await server.CliAsync(null, "ca", "issue", "--name", "imap.example.test", "--json");
        Assert.True(host.ExitCode == 0, host.Error);

        static double DaysLeft(string json)
        {
            using var issued = JsonDocument.Parse(json);
            return (issued.RootElement.GetProperty("notAfter").GetDateTimeOffset() - DateTimeOffset.UtcNow).TotalDays;
        }

        Assert.InRange(DaysLeft(user.Output), 9, 10.1);
        Assert.InRange(DaysLeft(host.Output), 19, 20.1);
    }

    [Theory]
    [InlineData("bogus=1", "unknown PKI limit 'bogus'")]
    [InlineData("crl-validity-hours=lots", "is not NAME=NUMBER")]
    [InlineData("renewal-window-days=5000", "renewal-window-days must be at least 1 and shorter than server-certificate-days")]
    public async Task AnUnknownOrUnusableLimitStopsServeWithTheReason(string limit, string reason)
    {
        var data = Directory.CreateTempSubdirectory("postern-pki-limit-").FullName;
        var refused = await PosternProcess.RunAsync("dotnet", [PosternProcess.PosternDll, "serve", "--data", data, "--port-offset", "39700", "--pki-limit", limit]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(reason, refused.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "postern.db")), "nothing is created when the options are refused");
    }
}
