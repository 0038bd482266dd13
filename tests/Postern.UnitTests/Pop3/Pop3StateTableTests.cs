using Postern.Protocols.Pop3;

namespace Postern.UnitTests.Pop3;

public sealed class Pop3StateTableTests
{
    private static readonly Pop3Verb[] s_authorizationOnly = [Pop3Verb.User, Pop3Verb.Pass, Pop3Verb.Apop, Pop3Verb.Auth, Pop3Verb.Stls];
    private static readonly Pop3Verb[] s_transactionOnly = [Pop3Verb.Stat, Pop3Verb.List, Pop3Verb.Retr, Pop3Verb.Dele, Pop3Verb.Noop, Pop3Verb.Rset, Pop3Verb.Top, Pop3Verb.Uidl];
    private static readonly Pop3Verb[] s_everywhere = [Pop3Verb.Capa, Pop3Verb.Quit];
    private static readonly Pop3Verb[] s_credentials = [Pop3Verb.User, Pop3Verb.Pass, Pop3Verb.Apop, Pop3Verb.Auth];

    [Fact]
    public void EveryVerbHasARule()
    {
        Assert.Equal(Enum.GetValues<Pop3Verb>().Length, s_authorizationOnly.Length + s_transactionOnly.Length + s_everywhere.Length);
        foreach (var verb in Enum.GetValues<Pop3Verb>())
        {
            _ = Pop3StateTable.Check(verb, Pop3State.Authorization, true);
        }
    }

    [Fact]
    public void MatrixOfVerbStateAndChannel()
    {
        foreach (var verb in Enum.GetValues<Pop3Verb>())
        {
            foreach (var secure in new[] { true, false })
            {
                var inAuthorization = Pop3StateTable.Check(verb, Pop3State.Authorization, secure);
                var inTransaction = Pop3StateTable.Check(verb, Pop3State.Transaction, secure);
                var inUpdate = Pop3StateTable.Check(verb, Pop3State.Update, secure);

                Assert.Equal(Pop3Gate.WrongState, inUpdate);
                if (s_transactionOnly.Contains(verb))
                {
                    Assert.Equal(Pop3Gate.WrongState, inAuthorization);
                    Assert.Equal(Pop3Gate.Allowed, inTransaction);
                }
                else if (s_everywhere.Contains(verb))
                {
                    Assert.Equal(Pop3Gate.Allowed, inAuthorization);
                    Assert.Equal(Pop3Gate.Allowed, inTransaction);
                }
                else
                {
                    // RFC 2595 §6: credentials wait for a secure channel when one is required.
                    var expected = !secure && s_credentials.Contains(verb) ? Pop3Gate.NeedsSecureChannel : Pop3Gate.Allowed;
                    Assert.Equal(expected, inAuthorization);
                    Assert.Equal(Pop3Gate.WrongState, inTransaction);
                }
            }
        }
    }

    [Fact]
    public void StlsIsAllowedBeforeTheChannelIsSecure()
    {
        Assert.Equal(Pop3Gate.Allowed, Pop3StateTable.Check(Pop3Verb.Stls, Pop3State.Authorization, mayAuthenticate: false));
        Assert.Equal(Pop3Gate.WrongState, Pop3StateTable.Check(Pop3Verb.Stls, Pop3State.Transaction, mayAuthenticate: true));
    }
}
