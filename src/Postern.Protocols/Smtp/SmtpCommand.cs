namespace Postern.Protocols.Smtp;

public enum SmtpVerb
{
    Unknown = 0,
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
}

/// <summary>One command line split into its verb and the argument text after the first space.</summary>
public readonly record struct SmtpCommand(SmtpVerb Verb, string Argument);

/// <summary>A MAIL FROM or RCPT TO parameter (RFC 5321 §4.1.2 esmtp-param): keyword with an optional value.</summary>
public readonly record struct SmtpParameter(string Keyword, string? Value);

/// <summary>A parsed reverse-path or forward-path; Address is "" for the null path &lt;&gt;.</summary>
public sealed record SmtpPath(string Address, bool IsAscii, IReadOnlyList<SmtpParameter> Parameters)
{
    public bool IsNull => Address.Length == 0;

    public string? Parameter(string keyword)
    {
        foreach (var p in Parameters)
        {
            if (p.Keyword.Equals(keyword, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value ?? "";
            }
        }

        return null;
    }

    public string Domain => Address[(Address.LastIndexOf('@') + 1)..];

    public string LocalPart => Address[..Math.Max(0, Address.LastIndexOf('@'))];
}

public enum SmtpPathError
{
    None = 0,
    Syntax = 1,
    BadParameter = 2,
}
