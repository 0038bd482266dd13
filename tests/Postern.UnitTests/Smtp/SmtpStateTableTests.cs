using Postern.Protocols.Smtp;
using Postern.Server.Smtp;

namespace Postern.UnitTests.Smtp;

public sealed class SmtpStateTableTests
{
    // An inbound server where the administrator allowed plaintext authentication.
    private static readonly SmtpSessionFacts s_plainInbound = new(Secure: false, Authenticated: false, CanStartTls: true, RequireSecureChannel: false, RequireAuthentication: false, Extended: true, MayAuthenticate: true);
    private static readonly SmtpSessionFacts s_submissionClear = new(Secure: false, Authenticated: false, CanStartTls: true, RequireSecureChannel: true, RequireAuthentication: true, Extended: true, MayAuthenticate: false);
    private static readonly SmtpSessionFacts s_submissionTls = s_submissionClear with { Secure = true, CanStartTls = false, MayAuthenticate = true };
    private static readonly SmtpSessionFacts s_submissionAuthenticated = s_submissionTls with { Authenticated = true };

    [Theory]
    [InlineData(SmtpVerb.Helo)]
    [InlineData(SmtpVerb.Ehlo)]
    [InlineData(SmtpVerb.Rset)]
    [InlineData(SmtpVerb.Noop)]
    [InlineData(SmtpVerb.Quit)]
    [InlineData(SmtpVerb.Help)]
    [InlineData(SmtpVerb.Vrfy)]
    [InlineData(SmtpVerb.Expn)]
    public void SessionCommandsWorkInEveryState(SmtpVerb verb)
    {
        foreach (var state in Enum.GetValues<SmtpState>())
        {
            Assert.Null(SmtpStateTable.Check(verb, state, s_plainInbound));
            Assert.Null(SmtpStateTable.Check(verb, state, s_submissionClear));
        }
    }

    [Fact]
    public void UnknownVerbIs500() => Assert.Equal(500, SmtpStateTable.Check(SmtpVerb.Unknown, SmtpState.Ready, s_plainInbound)?.Code);

    // Expected codes per state: Connected, Ready, Mail, Recipients, Chunking (0 = allowed).
    [Theory]
    [InlineData(SmtpVerb.Mail, 503, 0, 503, 503, 503)]
    [InlineData(SmtpVerb.Rcpt, 503, 503, 0, 0, 503)]
    [InlineData(SmtpVerb.Data, 503, 503, 554, 0, 503)]
    [InlineData(SmtpVerb.Bdat, 503, 503, 554, 0, 0)]
    [InlineData(SmtpVerb.StartTls, 503, 0, 503, 503, 503)]
    [InlineData(SmtpVerb.Auth, 503, 0, 503, 503, 503)]
    public void TransactionSequenceOnTheInboundServer(SmtpVerb verb, int connected, int ready, int mail, int recipients, int chunking)
    {
        int[] expected = [connected, ready, mail, recipients, chunking];
        foreach (var state in Enum.GetValues<SmtpState>())
        {
            Assert.Equal(expected[(int)state], SmtpStateTable.Check(verb, state, s_plainInbound)?.Code ?? 0);
        }
    }

    [Fact]
    public void AfterHeloTheExtensionsAreRefusedButDataIsNot()
    {
        var helo = s_plainInbound with { Extended = false };
        Assert.Equal(503, SmtpStateTable.Check(SmtpVerb.Bdat, SmtpState.Recipients, helo)?.Code);
        Assert.Equal(503, SmtpStateTable.Check(SmtpVerb.Auth, SmtpState.Ready, helo)?.Code);
        Assert.Null(SmtpStateTable.Check(SmtpVerb.Data, SmtpState.Recipients, helo));
    }

    [Fact]
    public void RequireSecureChannelRefusesAuthAndMailBeforeTls()
    {
        Assert.Equal(SmtpStateTable.NeedStartTls, SmtpStateTable.Check(SmtpVerb.Auth, SmtpState.Ready, s_submissionClear));
        Assert.Equal(SmtpStateTable.NeedStartTls, SmtpStateTable.Check(SmtpVerb.Mail, SmtpState.Ready, s_submissionClear));
        Assert.Null(SmtpStateTable.Check(SmtpVerb.StartTls, SmtpState.Ready, s_submissionClear));
    }

    [Fact]
    public void WithoutPlaintextAuthenticationAuthWaitsForTlsButMailDoesNot()
    {
        // The default on port 25: mail in clear from any MTA, credentials only after STARTTLS (advertised or not).
        var inbound = s_plainInbound with { MayAuthenticate = false };
        Assert.Equal(SmtpStateTable.NeedStartTls, SmtpStateTable.Check(SmtpVerb.Auth, SmtpState.Ready, inbound));
        Assert.Null(SmtpStateTable.Check(SmtpVerb.Mail, SmtpState.Ready, inbound));
    }

    [Fact]
    public void SubmissionNeedsAuthenticationBeforeMail()
    {
        Assert.Equal(SmtpStateTable.NeedAuth, SmtpStateTable.Check(SmtpVerb.Mail, SmtpState.Ready, s_submissionTls));
        Assert.Null(SmtpStateTable.Check(SmtpVerb.Auth, SmtpState.Ready, s_submissionTls));
        Assert.Null(SmtpStateTable.Check(SmtpVerb.Mail, SmtpState.Ready, s_submissionAuthenticated));
        Assert.Equal(503, SmtpStateTable.Check(SmtpVerb.Auth, SmtpState.Ready, s_submissionAuthenticated)?.Code);
    }

    [Fact]
    public void StartTlsOnlyOnceAndOnlyWithACertificate()
    {
        Assert.Equal(503, SmtpStateTable.Check(SmtpVerb.StartTls, SmtpState.Ready, s_submissionTls)?.Code);
        Assert.Equal(454, SmtpStateTable.Check(SmtpVerb.StartTls, SmtpState.Ready, s_plainInbound with { CanStartTls = false })?.Code);
        Assert.Equal(503, SmtpStateTable.Check(SmtpVerb.StartTls, SmtpState.Ready, s_plainInbound with { Extended = false })?.Code);
    }

    [Fact]
    public void AuthNeedsEhloNotHelo() =>
        Assert.Equal(503, SmtpStateTable.Check(SmtpVerb.Auth, SmtpState.Ready, s_submissionTls with { Extended = false })?.Code);
}
