namespace Postern.Store;

public static class AddressSyntax
{
    /// <summary>A pragmatic check of local@domain: no spaces or controls, one @, a dotted domain of LDH labels.</summary>
    public static bool IsValidMailbox(string address)
    {
        if (string.IsNullOrEmpty(address) || address.Length > 254)
        {
            return false;
        }

        var at = address.LastIndexOf('@');
        if (at <= 0 || at == address.Length - 1 || at > 64)
        {
            return false;
        }

        foreach (var c in address.AsSpan(0, at))
        {
            if (c <= ' ' || c == 127 || c is '<' or '>' or '(' or ')' or ',' or ';' or ':' or '\\' or '"' or '[' or ']' or '@')
            {
                return false;
            }
        }

        return IsValidDomain(address[(at + 1)..]);
    }

    public static bool IsValidDomain(string domain)
    {
        if (domain.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in domain.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c > 127))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
