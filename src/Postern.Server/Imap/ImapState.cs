namespace Postern.Server.Imap;

/// <summary>RFC 3501 §3: the session states. Flags so the state table can name several.</summary>
[Flags]
internal enum ImapState
{
    NotAuthenticated = 1,
    Authenticated = 2,
    Selected = 4,
    Logout = 8,

    Any = NotAuthenticated | Authenticated | Selected,
    AuthenticatedOrSelected = Authenticated | Selected,
}
