using Postern.Server.Smtp.Outbound;

namespace Postern.UnitTests.Smtp;

public sealed class MtaStsPolicyTests
{
    [Fact]
    public void A_policy_file_is_read_as_rfc_8461_writes_it()
    {
        var policy = MtaStsPolicy.Parse("20261128", "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n");
        Assert.NotNull(policy);
        Assert.Equal(MtaStsMode.Enforce, policy.Mode);
        Assert.Equal(["mail.example.com", "*.example.net"], policy.MxPatterns);
        Assert.Equal(TimeSpan.FromDays(1), policy.MaxAge);

        // §4.1: a wildcard matches exactly one more label.
        Assert.True(policy.Allows("MAIL.example.com."));
        Assert.True(policy.Allows("mx1.example.net"));
        Assert.False(policy.Allows("example.net"));
        Assert.False(policy.Allows("a.b.example.net"));
        Assert.False(policy.Allows("mail.example.org"));
    }

    [Theory]
    [InlineData("mode: enforce\nmx: a.example\nmax_age: 60")]
    [InlineData("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 60")]
    [InlineData("version: STSv1\nmode: sometimes\nmx: a.example\nmax_age: 60")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.example")]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 60")]
    public void An_invalid_policy_is_no_policy(string text) => Assert.Null(MtaStsPolicy.Parse("1", text));

    [Fact]
    public void Max_age_is_capped_at_a_year() =>
        Assert.Equal(TimeSpan.FromSeconds(31_557_600), MtaStsPolicy.Parse("1", "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 999999999")!.MaxAge);
}
