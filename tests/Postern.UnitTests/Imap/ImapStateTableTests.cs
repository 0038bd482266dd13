using Postern.Server.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapStateTableTests
{
    private const ImapState N = ImapState.NotAuthenticated;
    private const ImapState A = ImapState.Authenticated;
    private const ImapState S = ImapState.Selected;

    // command, allowed in not-authenticated, authenticated, selected
    public static TheoryData<string, bool, bool, bool> Matrix => new()
    {
        { "CAPABILITY", true, true, true },
        { "NOOP", true, true, true },
        { "LOGOUT", true, true, true },
        { "ID", true, true, true },
        { "STARTTLS", true, false, false },
        { "LOGIN", true, false, false },
        { "AUTHENTICATE", true, false, false },
        { "ENABLE", false, true, false },
        { "SELECT", false, true, true },
        { "EXAMINE", false, true, true },
        { "CREATE", false, true, true },
        { "DELETE", false, true, true },
        { "RENAME", false, true, true },
        { "SUBSCRIBE", false, true, true },
        { "UNSUBSCRIBE", false, true, true },
        { "LIST", false, true, true },
        { "LSUB", false, true, true },
        { "NAMESPACE", false, true, true },
        { "STATUS", false, true, true },
        { "APPEND", false, true, true },
        { "IDLE", false, true, true },
        { "GETQUOTA", false, true, true },
        { "GETQUOTAROOT", false, true, true },
        { "SETQUOTA", false, true, true },
        { "COMPRESS", false, true, true },
        { "GETACL", false, true, true },
        { "LISTRIGHTS", false, true, true },
        { "MYRIGHTS", false, true, true },
        { "SETACL", false, true, true },
        { "DELETEACL", false, true, true },
        { "CHECK", false, false, true },
        { "CLOSE", false, false, true },
        { "UNSELECT", false, false, true },
        { "EXPUNGE", false, false, true },
        { "UID EXPUNGE", false, false, true },
        { "SEARCH", false, false, true },
        { "UID SEARCH", false, false, true },
        { "SORT", false, false, true },
        { "UID SORT", false, false, true },
        { "THREAD", false, false, true },
        { "UID THREAD", false, false, true },
        { "FETCH", false, false, true },
        { "UID FETCH", false, false, true },
        { "STORE", false, false, true },
        { "UID STORE", false, false, true },
        { "COPY", false, false, true },
        { "UID COPY", false, false, true },
        { "MOVE", false, false, true },
        { "UID MOVE", false, false, true },
        { "REPLACE", false, false, true },
        { "UID REPLACE", false, false, true },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Commands_are_allowed_only_in_their_states(string command, bool notAuthenticated, bool authenticated, bool selected)
    {
        Assert.Equal(notAuthenticated ? ImapGate.Allowed : ImapGate.WrongState, ImapStateTable.Check(command, N, out _));
        Assert.Equal(authenticated ? ImapGate.Allowed : ImapGate.WrongState, ImapStateTable.Check(command, A, out _));
        Assert.Equal(selected ? ImapGate.Allowed : ImapGate.WrongState, ImapStateTable.Check(command, S, out _));
        Assert.Equal(ImapGate.WrongState, ImapStateTable.Check(command, ImapState.Logout, out _));
    }

    [Fact]
    public void Every_command_in_the_table_is_in_the_matrix()
    {
        var names = Matrix.Select(row => (string)row[0]).ToHashSet();
        Assert.All(ImapStateTable.All, entry => Assert.Contains(entry.Name, names));
    }

    [Theory]
    [InlineData("FROB")]
    [InlineData("UID NOOP")]
    [InlineData("noop")]
    [InlineData("XLIST")]
    public void Unknown_commands(string command) => Assert.Equal(ImapGate.UnknownCommand, ImapStateTable.Check(command, S, out _));
}
