using Postern.Server.Imap.Handlers;

namespace Postern.Server.Imap;

internal enum ImapGate
{
    Allowed = 0,
    UnknownCommand = 1,
    WrongState = 2,
}

/// <summary>
/// One command: the states it is valid in, its handler, and whether it may run on the socket's event thread
/// (<see cref="Connections.EventThread"/>): only commands whose cost does not grow with the mailbox, or that bound it themselves.
/// </summary>
/// <param name="NoArguments">The grammar gives the command no arguments (RFC 9051 §9): any are refused with BAD before it runs.</param>
internal sealed record ImapCommandEntry(string Name, ImapState States, IImapHandler Handler, bool Inline = false, bool NoArguments = false);

/// <summary>
/// Which command is valid in which state (RFC 3501 §6, RFC 9051 §6), as data. Security policy that depends on the
/// connection (LOGINDISABLED, STARTTLS only on clear text) is checked by the handlers themselves, where the reply text lives.
/// </summary>
internal static class ImapStateTable
{
    private static readonly Dictionary<string, ImapCommandEntry> Entries = Build(
        // RFC 3501 §6.1: any state.
        E("CAPABILITY", ImapState.Any, new Capability(), inline: true, noArguments: true),
        E("NOOP", ImapState.Any, new Noop(), inline: true, noArguments: true),
        E("LOGOUT", ImapState.Any, new Logout(), inline: true, noArguments: true),
        E("ID", ImapState.Any, new Id(), inline: true),

        // §6.2: not authenticated.
        E("STARTTLS", ImapState.NotAuthenticated, new StartTls(), noArguments: true),
        E("AUTHENTICATE", ImapState.NotAuthenticated, new Authenticate()),
        E("LOGIN", ImapState.NotAuthenticated, new Login()),

        // §6.3: authenticated (and so selected too). RFC 5161 §3.1: ENABLE only before a mailbox is selected.
        E("ENABLE", ImapState.Authenticated, new Enable()),
        E("SELECT", ImapState.AuthenticatedOrSelected, new Select(readOnly: false)),
        E("EXAMINE", ImapState.AuthenticatedOrSelected, new Select(readOnly: true)),
        E("CREATE", ImapState.AuthenticatedOrSelected, new Create()),
        E("DELETE", ImapState.AuthenticatedOrSelected, new Delete()),
        E("RENAME", ImapState.AuthenticatedOrSelected, new Rename()),
        E("SUBSCRIBE", ImapState.AuthenticatedOrSelected, new Subscribe(subscribe: true)),
        E("UNSUBSCRIBE", ImapState.AuthenticatedOrSelected, new Subscribe(subscribe: false)),
        E("LIST", ImapState.AuthenticatedOrSelected, new List(lsub: false)),
        E("LSUB", ImapState.AuthenticatedOrSelected, new List(lsub: true)),
        E("NAMESPACE", ImapState.AuthenticatedOrSelected, new Namespace(), noArguments: true),
        E("STATUS", ImapState.AuthenticatedOrSelected, new Status(), inline: true),
        E("APPEND", ImapState.AuthenticatedOrSelected, new Append()),
        E("IDLE", ImapState.AuthenticatedOrSelected, new Idle(), inline: true, noArguments: true),
        E("GETQUOTA", ImapState.AuthenticatedOrSelected, new GetQuota()),
        E("GETQUOTAROOT", ImapState.AuthenticatedOrSelected, new GetQuotaRoot()),
        E("SETQUOTA", ImapState.AuthenticatedOrSelected, new SetQuota()),
        E("COMPRESS", ImapState.AuthenticatedOrSelected, new Compress()),
        E("GETACL", ImapState.AuthenticatedOrSelected, new Acl(Acl.Verb.GetAcl)),
        E("LISTRIGHTS", ImapState.AuthenticatedOrSelected, new Acl(Acl.Verb.ListRights)),
        E("MYRIGHTS", ImapState.AuthenticatedOrSelected, new Acl(Acl.Verb.MyRights)),
        E("SETACL", ImapState.AuthenticatedOrSelected, new Acl(Acl.Verb.SetAcl)),
        E("DELETEACL", ImapState.AuthenticatedOrSelected, new Acl(Acl.Verb.DeleteAcl)),

        // §6.4: selected.
        E("CHECK", ImapState.Selected, new Check(), inline: true, noArguments: true),
        E("CLOSE", ImapState.Selected, new Close(), noArguments: true),
        E("UNSELECT", ImapState.Selected, new Unselect(), noArguments: true),
        E("EXPUNGE", ImapState.Selected, new Expunge(uid: false), noArguments: true),
        E("UID EXPUNGE", ImapState.Selected, new Expunge(uid: true)),
        E("SEARCH", ImapState.Selected, new Search(uid: false), inline: true),
        E("UID SEARCH", ImapState.Selected, new Search(uid: true), inline: true),
        E("SORT", ImapState.Selected, new Sort(uid: false)),
        E("UID SORT", ImapState.Selected, new Sort(uid: true)),
        E("THREAD", ImapState.Selected, new Handlers.Thread(uid: false)),
        E("UID THREAD", ImapState.Selected, new Handlers.Thread(uid: true)),
        E("FETCH", ImapState.Selected, new Fetch(uid: false), inline: true),
        E("UID FETCH", ImapState.Selected, new Fetch(uid: true), inline: true),
        E("STORE", ImapState.Selected, new Handlers.Store(uid: false), inline: true),
        E("UID STORE", ImapState.Selected, new Handlers.Store(uid: true), inline: true),
        E("COPY", ImapState.Selected, new Copy(uid: false, move: false)),
        E("UID COPY", ImapState.Selected, new Copy(uid: true, move: false)),
        E("MOVE", ImapState.Selected, new Copy(uid: false, move: true)),
        E("UID MOVE", ImapState.Selected, new Copy(uid: true, move: true)),
        E("REPLACE", ImapState.Selected, new Replace(uid: false)),
        E("UID REPLACE", ImapState.Selected, new Replace(uid: true)));

    public static IReadOnlyCollection<ImapCommandEntry> All => Entries.Values;

    public static ImapGate Check(string name, ImapState state, out ImapCommandEntry? entry)
    {
        if (!Entries.TryGetValue(name, out entry))
        {
            return ImapGate.UnknownCommand;
        }

        return (entry.States & state) != 0 ? ImapGate.Allowed : ImapGate.WrongState;
    }

    private static ImapCommandEntry E(string name, ImapState states, IImapHandler handler, bool inline = false, bool noArguments = false) =>
        new(name, states, handler, inline, noArguments);

    private static Dictionary<string, ImapCommandEntry> Build(params ImapCommandEntry[] entries) => entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
}
