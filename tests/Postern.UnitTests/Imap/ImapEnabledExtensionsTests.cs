using Postern.Server.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapEnabledExtensionsTests
{
    [Fact]
    public void A_new_session_is_imap4rev1()
    {
        var enabled = new ImapEnabledExtensions();
        Assert.False(enabled.Rev2);
        Assert.False(enabled.SearchAnswersEsearch);
        Assert.True(enabled.ReportsRecentAndUnseen);
        Assert.False(enabled.Utf8MailboxNames);
        Assert.False(enabled.SendsClosed);
    }

    [Fact]
    public void Enable_imap4rev2_switches_the_session_to_rev2_forms()
    {
        var enabled = new ImapEnabledExtensions();
        Assert.Equal(["IMAP4rev2"], enabled.Enable(["IMAP4REV2"]));
        Assert.True(enabled.Rev2);
        Assert.True(enabled.SearchAnswersEsearch);
        Assert.False(enabled.ReportsRecentAndUnseen);
        Assert.True(enabled.Utf8MailboxNames);
        Assert.True(enabled.SendsClosed);
        Assert.False(enabled.CondStore);
        Assert.False(enabled.Utf8);
    }

    [Fact]
    public void Enable_reports_only_known_names_once_and_qresync_implies_condstore()
    {
        var enabled = new ImapEnabledExtensions();
        Assert.Equal(["QRESYNC", "IMAP4rev2"], enabled.Enable(["QRESYNC", "X-UNKNOWN", "IMAP4rev2", "imap4rev2"]));
        Assert.True(enabled.CondStore);
        Assert.True(enabled.SendsClosed);
    }

    [Fact]
    public void Utf8_accept_alone_gives_utf8_names_but_stays_rev1()
    {
        var enabled = new ImapEnabledExtensions();
        Assert.Equal(["UTF8=ACCEPT"], enabled.Enable(["UTF8=ACCEPT"]));
        Assert.True(enabled.Utf8MailboxNames);
        Assert.False(enabled.SearchAnswersEsearch);
        Assert.True(enabled.ReportsRecentAndUnseen);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Both_revisions_and_enable_are_advertised_in_every_state(int stateIndex)
    {
        var state = new[] { ImapState.NotAuthenticated, ImapState.Authenticated, ImapState.Selected }[stateIndex];
        var capabilities = ImapCapabilities.For(state, canStartTls: false, mayAuthenticate: true, ["PLAIN"]).ToList();
        Assert.Equal(["IMAP4rev1", "IMAP4rev2"], capabilities.Take(2));
        Assert.Contains("ENABLE", capabilities);
        Assert.Equal(capabilities.Count, capabilities.Distinct().Count());
    }

    [Fact]
    public void Login_disabled_still_advertises_imap4rev2()
    {
        var capabilities = ImapCapabilities.For(ImapState.NotAuthenticated, canStartTls: true, mayAuthenticate: false, ["PLAIN"]).ToList();
        Assert.Contains("IMAP4rev2", capabilities);
        Assert.Contains("LOGINDISABLED", capabilities);
        Assert.DoesNotContain("AUTH=PLAIN", capabilities);
    }
}
