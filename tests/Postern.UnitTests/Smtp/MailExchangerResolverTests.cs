using System.Net;
using Postern.Server.Smtp.Outbound;
using Postern.Tests;

namespace Postern.UnitTests.Smtp;

/// <summary>The MX lookup of outbound delivery (RFC 5321 §5.1, RFC 7505) through DnsClient, against a DNS server on loopback.</summary>
public sealed class MailExchangerResolverTests
{
    private static DnsMailExchangerResolver ResolverFor(FakeDnsServer dns) => new(dns.CreateClient());

    [Fact]
    public async Task Exchangers_come_best_preference_first()
    {
        await using var dns = new FakeDnsServer()
            .AddMx("example.test", 20, "backup.example.test")
            .AddMx("example.test", 10, "mx1.example.test")
            .AddMx("example.test", 30, "far.example.net");
        var lookup = await ResolverFor(dns).ResolveAsync("example.test", CancellationToken.None);
        Assert.Equal(MailExchangerStatus.Found, lookup.Status);
        Assert.Equal(["mx1.example.test", "backup.example.test", "far.example.net"], lookup.Hosts);
    }

    [Fact]
    public async Task A_domain_without_mx_but_with_an_address_is_its_own_exchanger()
    {
        await using var dns = new FakeDnsServer().AddA("plain.example.test", IPAddress.Parse("192.0.2.7"));
        var lookup = await ResolverFor(dns).ResolveAsync("plain.example.test", CancellationToken.None);
        Assert.Equal(MailExchangerStatus.Found, lookup.Status);
        Assert.Equal(["plain.example.test"], lookup.Hosts);
    }

    [Fact]
    public async Task A_null_mx_and_a_domain_that_does_not_exist_mean_no_mail_at_all()
    {
        await using var dns = new FakeDnsServer().AddMx("nomail.example.test", 0, ".");
        var resolver = ResolverFor(dns);

        var nullMx = await resolver.ResolveAsync("nomail.example.test", CancellationToken.None);
        Assert.Equal(MailExchangerStatus.NoMail, nullMx.Status);
        Assert.Contains("null MX", nullMx.Error, StringComparison.Ordinal);

        var missing = await resolver.ResolveAsync("missing.example.test", CancellationToken.None);
        Assert.Equal(MailExchangerStatus.NoMail, missing.Status);
        Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_dns_server_is_a_temporary_failure_so_the_message_stays_queued()
    {
        await using var dns = new FakeDnsServer().Fail("broken.example.test", responseCode: 2);
        var lookup = await ResolverFor(dns).ResolveAsync("broken.example.test", CancellationToken.None);
        Assert.Equal(MailExchangerStatus.TemporaryFailure, lookup.Status);
    }

    [Theory]
    [InlineData("[192.0.2.1]", "192.0.2.1")]
    [InlineData("[IPv6:2001:db8::1]", "2001:db8::1")]
    public async Task An_address_literal_names_the_host_itself_without_asking_dns(string domain, string host)
    {
        await using var dns = new FakeDnsServer();
        var lookup = await ResolverFor(dns).ResolveAsync(domain, CancellationToken.None);
        Assert.Equal(MailExchangerStatus.Found, lookup.Status);
        Assert.Equal([host], lookup.Hosts);
    }
}
