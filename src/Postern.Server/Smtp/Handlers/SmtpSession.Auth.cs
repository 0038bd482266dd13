using Postern.Protocols.Sasl;
using Postern.Server.Connections;

namespace Postern.Server.Smtp;

/// <summary>AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN and EXTERNAL (RFC 4422 Appendix A).</summary>
internal sealed partial class SmtpSession
{
    private List<string> OfferedMechanisms()
    {
        var mechanisms = new List<string>();
        foreach (var m in _config.AuthenticationMethods)
        {
            var name = m.ToUpperInvariant();
            if (name is "PLAIN" or "LOGIN" && !mechanisms.Contains(name))
            {
                mechanisms.Add(name);
            }
        }

        // EXTERNAL only makes sense once the client has shown a certificate and something maps certificates to accounts
        // (as IMAP, POP3 and NNTP decide it).
        if (_connection.Tls?.ClientCertificate is not null && _context.ClientCertificateAccounts is not null
            && _config.AuthenticationMethods.Contains("EXTERNAL", StringComparer.OrdinalIgnoreCase))
        {
            mechanisms.Add("EXTERNAL");
        }

        return mechanisms;
    }

    private async Task AuthAsync(string argument, CancellationToken cancellationToken)
    {
        var parts = argument.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            await BadCommandAsync(501, "5.5.4 Syntax: AUTH mechanism", cancellationToken).ConfigureAwait(false);
            return;
        }

        var mechanism = parts[0].ToUpperInvariant();
        var initial = parts.Length > 1 ? parts[1] : null;
        if (!OfferedMechanisms().Contains(mechanism))
        {
            Reply(504, "5.5.4 Unrecognized authentication type");
            return;
        }

        AuthenticationResult result;
        switch (mechanism)
        {
            case "PLAIN":
                {
                    var response = initial ?? await ChallengeAsync("", cancellationToken).ConfigureAwait(false);
                    if (response is null)
                    {
                        return;
                    }

                    if (!SaslPlain.TryDecode(response, out var credentials))
                    {
                        Reply(501, "5.5.2 Cannot decode response");
                        return;
                    }

                    result = await new Authenticator(_context).AuthenticateAsync(_connection, credentials.AuthenticationId, credentials.Password, credentials.AuthorizationId, cancellationToken).ConfigureAwait(false);
                    break;
                }

            case "LOGIN":
                {
                    var userResponse = initial ?? await ChallengeAsync("VXNlcm5hbWU6", cancellationToken).ConfigureAwait(false);
                    if (userResponse is null)
                    {
                        return;
                    }

                    if (!SaslPlain.TryDecodeText(userResponse, out var user) || user.Length == 0)
                    {
                        Reply(501, "5.5.2 Cannot decode response");
                        return;
                    }

                    var passwordResponse = await ChallengeAsync("UGFzc3dvcmQ6", cancellationToken).ConfigureAwait(false);
                    if (passwordResponse is null)
                    {
                        return;
                    }

                    if (!SaslPlain.TryDecodeText(passwordResponse, out var password))
                    {
                        Reply(501, "5.5.2 Cannot decode response");
                        return;
                    }

                    result = await new Authenticator(_context).AuthenticateAsync(_connection, user, password, null, cancellationToken).ConfigureAwait(false);
                    break;
                }

            default:
                {
                    var response = initial ?? await ChallengeAsync("", cancellationToken).ConfigureAwait(false);
                    if (response is null)
                    {
                        return;
                    }

                    if (!SaslPlain.TryDecodeText(response, out var authorizationId))
                    {
                        Reply(501, "5.5.2 Cannot decode response");
                        return;
                    }

                    result = await new Authenticator(_context).AuthenticateExternalAsync(_connection, authorizationId, cancellationToken).ConfigureAwait(false);
                    break;
                }
        }

        switch (result.Outcome)
        {
            case AuthenticationOutcome.Success:
                _account = result.Account;
                Reply(235, "2.7.0 Authentication successful");
                return;
            case AuthenticationOutcome.Throttled:
                await CloseAsync(421, "4.7.0 Error: too many failed authentication attempts, try later", cancellationToken).ConfigureAwait(false);
                return;
            case AuthenticationOutcome.NeedsEncryption:
                Reply(538, "5.7.11 Encryption required for requested authentication mechanism");
                return;
            default:
                _authFailures++;
                if (_authFailures >= _config.Limits.MaxAuthFailures)
                {
                    await CloseAsync(421, "4.7.0 Error: too many failed authentication attempts", cancellationToken).ConfigureAwait(false);
                    return;
                }

                Reply(535, "5.7.8 Error: authentication failed");
                return;
        }
    }

    /// <summary>Sends a 334 challenge and reads the response; null when cancelled or the session ends.</summary>
    private async Task<string?> ChallengeAsync(string challenge, CancellationToken cancellationToken)
    {
        Reply(334, challenge);
        var line = await _channel.ReadLineAsync(_settings.MaxAuthLine, CommandTimeout, cancellationToken).ConfigureAwait(false);
        switch (line.Kind)
        {
            case LineResultKind.Line:
                var text = line.Text;
                if (text == "*")
                {
                    // RFC 4954 §4: the client cancels the exchange.
                    Reply(501, "5.0.0 Authentication cancelled");
                    return null;
                }

                return text;
            case LineResultKind.TooLong:
                Reply(500, "5.5.6 Authentication exchange line is too long");
                return null;
            case LineResultKind.Timeout:
                await CloseAsync(421, "4.4.2 Error: timeout exceeded", cancellationToken).ConfigureAwait(false);
                return null;
            default:
                _closing = true;
                return null;
        }
    }
}
