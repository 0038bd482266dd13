using Postern.Server.Nntp;

namespace Postern.UnitTests.Nntp;

public sealed class NntpStateTableTests
{
    private static readonly NntpSessionFacts OpenServer = new(Secure: false, Authenticated: false, RequireAuthentication: false, RequireSecureChannel: false, Streaming: true);

    [Theory]
    [InlineData("CAPABILITIES")]
    [InlineData("MODE")]
    [InlineData("QUIT")]
    [InlineData("DATE")]
    [InlineData("HELP")]
    [InlineData("STARTTLS")]
    [InlineData("AUTHINFO")]
    [InlineData("COMPRESS")]
    public void Session_commands_run_before_logon_even_where_logon_is_required(string keyword)
    {
        var locked = OpenServer with { RequireAuthentication = true, RequireSecureChannel = true };
        Assert.Equal(NntpGate.Run, NntpStateTable.Check(keyword, locked));
        Assert.True(NntpStateTable.RunsOnEventThread(keyword));
    }

    [Theory]
    [InlineData("GROUP")]
    [InlineData("LISTGROUP")]
    [InlineData("LIST")]
    [InlineData("ARTICLE")]
    [InlineData("OVER")]
    [InlineData("XOVER")]
    [InlineData("HDR")]
    [InlineData("XPAT")]
    [InlineData("NEWNEWS")]
    [InlineData("POST")]
    [InlineData("IHAVE")]
    [InlineData("CHECK")]
    [InlineData("TAKETHIS")]
    public void News_commands_wait_for_logon_only_where_the_virtual_server_requires_it(string keyword)
    {
        Assert.Equal(NntpGate.Run, NntpStateTable.Check(keyword, OpenServer));
        Assert.Equal(NntpGate.NeedsLogon, NntpStateTable.Check(keyword, OpenServer with { RequireAuthentication = true }));
        Assert.Equal(NntpGate.Run, NntpStateTable.Check(keyword, OpenServer with { RequireAuthentication = true, Authenticated = true }));
    }

    [Theory]
    [InlineData("GROUP")]
    [InlineData("LIST")]
    [InlineData("ARTICLE")]
    [InlineData("OVER")]
    [InlineData("NEWNEWS")]
    [InlineData("POST")]
    [InlineData("IHAVE")]
    [InlineData("TAKETHIS")]
    public void With_require_secure_channel_no_news_is_read_or_sent_in_clear_text(string keyword)
    {
        var secureRequired = OpenServer with { RequireSecureChannel = true };
        Assert.Equal(NntpGate.NeedsTls, NntpStateTable.Check(keyword, secureRequired));
        Assert.Equal(NntpGate.NeedsTls, NntpStateTable.Check(keyword, secureRequired with { RequireAuthentication = true }));
        Assert.Equal(NntpGate.Run, NntpStateTable.Check(keyword, secureRequired with { Secure = true }));
    }

    [Theory]
    [InlineData("XYZZY")]
    [InlineData("group")]
    [InlineData("")]
    public void Unknown_commands_are_unknown_whether_or_not_the_client_has_logged_on(string keyword)
    {
        Assert.Equal(NntpGate.Unknown, NntpStateTable.Check(keyword, OpenServer));
        Assert.Equal(NntpGate.Unknown, NntpStateTable.Check(keyword, OpenServer with { RequireAuthentication = true }));
    }

    [Fact]
    public void Streaming_commands_exist_only_where_streaming_is_offered()
    {
        var noStreaming = OpenServer with { Streaming = false };
        Assert.Equal(NntpGate.Unknown, NntpStateTable.Check("CHECK", noStreaming));
        Assert.Equal(NntpGate.Unknown, NntpStateTable.Check("TAKETHIS", noStreaming));
        Assert.Equal(NntpGate.Run, NntpStateTable.Check("IHAVE", noStreaming));
    }

    [Fact]
    public void The_refusal_asks_for_encryption_first_where_credentials_must_wait_for_tls()
    {
        var required = OpenServer with { RequireAuthentication = true };
        Assert.StartsWith("480 ", NntpStateTable.LogonRefusal(required), StringComparison.Ordinal);
        Assert.StartsWith("483 ", NntpStateTable.LogonRefusal(required with { RequireSecureChannel = true }), StringComparison.Ordinal);
        Assert.StartsWith("480 ", NntpStateTable.LogonRefusal(required with { RequireSecureChannel = true, Secure = true }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ARTICLE", true)]
    [InlineData("POST", true)]
    [InlineData("TAKETHIS", true)]
    [InlineData("LIST", false)]
    [InlineData("OVER", false)]
    [InlineData("NEWNEWS", false)]
    public void Commands_about_one_article_stay_on_the_event_thread_and_listings_leave_it(string keyword, bool staysOnEventThread) =>
        Assert.Equal(staysOnEventThread, NntpStateTable.RunsOnEventThread(keyword));

    [Theory]
    [InlineData("DATE", 1, true)]
    [InlineData("QUIT", 1, true)]
    [InlineData("POST", 1, true)]
    [InlineData("GROUP", 2, true)]
    [InlineData("ARTICLE", 2, true)]
    [InlineData("LISTGROUP", 3, true)]
    [InlineData("HDR", 3, true)]
    [InlineData("GROUP", 1, false)]
    [InlineData("LIST", 2, false)]
    [InlineData("HDR", 2, false)]
    [InlineData("XPAT", 9, false)]
    [InlineData("AUTHINFO", 4, false)]
    [InlineData("TAKETHIS", 2, false)]
    public void Commands_with_more_arguments_than_their_syntax_allows_are_syntax_errors(string keyword, int count, bool tooMany) =>
        Assert.Equal(tooMany, NntpStateTable.HasTooManyArguments(keyword, count));
}
