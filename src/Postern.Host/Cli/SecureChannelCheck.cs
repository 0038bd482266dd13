using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Postern.Host.Admin;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Host.Cli;

internal sealed record BindingCheck(
    string VirtualServer,
    ServiceProtocol Protocol,
    string Endpoint,
    BindingMode Mode,
    bool Ok,
    string? TlsVersion,
    string? CipherSuite,
    int CipherStrengthBits,
    bool ChainVerified,
    string? ChainStatus,
    bool NameMatches,
    string? Subject,
    string? Issuer,
    int? DaysToExpiry,
    bool? PlaintextLoginRefused,
    bool ClearTextAfterGreeting,
    IReadOnlyList<string> Problems,
    string? KeyAlgorithm = null,
    int KeyBits = 0);

/// <summary>
/// The article's last section as a command: connect to every binding as a client would (implicit TLS or the
/// protocol's STARTTLS), and confirm that the channel is encrypted with a certificate that verifies.
/// </summary>
internal static class SecureChannelCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static async Task<BindingCheck> CheckAsync(VirtualServerView vs, BindingView binding, string hostName, X509Certificate2Collection trustedRoots,
        IReadOnlyDictionary<string, System.Security.Cryptography.X509Certificates.X509RevocationReason?> revokedSerials, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var host = binding.Address is "*" or "0.0.0.0" or "::" ? "127.0.0.1" : binding.Address;
        var endpoint = $"{host}:{binding.Port}";
        if (!binding.Listening)
        {
            problems.Add("not listening" + (binding.Error is null ? "" : ": " + binding.Error));
            return new BindingCheck(vs.Name, vs.Protocol, endpoint, binding.Mode, false, null, null, 0, false, null, false, null, null, null, null, false, problems);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout * 3);
        var ct = timeout.Token;

        bool? plaintextLoginRefused = null;
        var clearAfterGreeting = false;
        try
        {
            using var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync(host, binding.Port, ct);
            Stream stream = tcp.GetStream();
            if (binding.Mode == BindingMode.ImplicitTls)
            {
                // Before any ClientHello, an implicit-TLS port must say nothing readable.
                clearAfterGreeting = await SaysSomethingInClearAsync(tcp, ct);
                if (clearAfterGreeting)
                {
                    problems.Add("the port spoke clear text before TLS");
                }
            }
            else
            {
                var dialog = new PlainDialog(stream);
                // Credentials in clear are refused unless the administrator allowed them (and no secure channel is required).
                var mustRefuse = vs.Security.RequireSecureChannel || !vs.Security.AllowPlaintextAuthentication;
                (plaintextLoginRefused, var startTlsOk) = await StartTlsDialogAsync(vs.Protocol, dialog, probeLogin: true, ct);
                if (mustRefuse && plaintextLoginRefused == false)
                {
                    problems.Add(vs.Security.RequireSecureChannel
                        ? "clear-text logon is accepted although a secure channel is required"
                        : "clear-text logon is accepted although plaintext authentication is off");
                }

                if (!startTlsOk)
                {
                    problems.Add("the server did not offer or accept STARTTLS");
                    return new BindingCheck(vs.Name, vs.Protocol, endpoint, binding.Mode, false, null, null, 0, false, null, false, null, null, null, plaintextLoginRefused, true, problems);
                }
            }

            X509Certificate2? served = null;
            X509ChainStatusFlags chainFlags = X509ChainStatusFlags.NoError;
            var chainBuilt = false;
            // The callback records what it finds and lets the handshake finish, so every problem can be reported.
#pragma warning disable CA5359
            await using var ssl = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, chain, _) =>
            {
                if (certificate is null)
                {
                    return true;
                }

                served = new X509Certificate2(certificate);
                using var custom = new X509Chain();
                custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.AddRange(trustedRoots);
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                if (chain is not null)
                {
                    custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
                    foreach (var element in chain.ChainElements)
                    {
                        custom.ChainPolicy.ExtraStore.Add(element.Certificate);
                    }
                }

                chainBuilt = custom.Build(served);
                foreach (var status in custom.ChainStatus)
                {
                    chainFlags |= status.Status;
                }

                return true;
            });
#pragma warning restore CA5359
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = hostName }, ct);

            var strength = TlsPolicy.CipherStrength(ssl.NegotiatedCipherSuite);
            var version = ssl.SslProtocol switch { SslProtocols.Tls13 => "TLS 1.3", SslProtocols.Tls12 => "TLS 1.2", var p => p.ToString() };
            if (ssl.SslProtocol is not (SslProtocols.Tls12 or SslProtocols.Tls13))
            {
                problems.Add($"negotiated {version}, below TLS 1.2");
            }

            if (strength < 128)
            {
                problems.Add($"cipher {ssl.NegotiatedCipherSuite} is below 128 bits");
            }

            if (!chainBuilt)
            {
                problems.Add("the certificate chain does not verify against the organization's trusted roots: " + chainFlags);
            }
            else if (served is not null && revokedSerials.TryGetValue(served.SerialNumber, out var reason))
            {
                chainBuilt = false;
                chainFlags |= X509ChainStatusFlags.Revoked;
                problems.Add($"the certificate (serial {served.SerialNumber}) was revoked by the organization's CA ({reason?.ToString() ?? "no reason given"}); install another");
            }

            var nameMatches = served is not null && served.MatchesHostname(hostName, allowWildcards: true, allowCommonName: true);
            if (!nameMatches)
            {
                problems.Add($"the certificate does not name {hostName}");
            }

            // A weak key undoes a strong cipher: RSA below 2048 bits or EC below 256 bits is a problem.
            var (keyAlgorithm, keyBits) = KeyOf(served);
            if (served is not null && (keyAlgorithm == "RSA" ? keyBits < 2048 : keyBits < 256))
            {
                problems.Add($"the certificate's {keyAlgorithm} key is only {keyBits} bits");
            }

            int? days = served is null ? null : (int)Math.Floor((served.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays);
            if (days is < 0)
            {
                problems.Add("the certificate has expired");
            }
            else if (days is < 14)
            {
                problems.Add($"the certificate expires in {days} days");
            }

            // The session over TLS must work: the protocol's greeting (implicit) or its capability answer (after STARTTLS).
            // A virtual server that requires client certificates closes on this check, which has none (in TLS 1.3 after
            // the handshake the client saw complete): the channel is what is checked, and it encrypts.
            if (vs.Security.ClientCertificates != Store.ClientCertificateMode.Required)
            {
                var secureDialog = new PlainDialog(ssl);
                var secureAnswer = binding.Mode == BindingMode.ImplicitTls && vs.Protocol != ServiceProtocol.Http
                    ? await secureDialog.ReadReplyAsync(vs.Protocol, ct)
                    : await SecureProbeAsync(vs.Protocol, secureDialog, hostName, ct);
                if (string.IsNullOrEmpty(secureAnswer))
                {
                    problems.Add("no protocol answer over TLS");
                }
            }

            return new BindingCheck(vs.Name, vs.Protocol, endpoint, binding.Mode, problems.Count == 0, version, ssl.NegotiatedCipherSuite.ToString(), strength,
                chainBuilt, chainFlags.ToString(), nameMatches, served?.Subject, served?.Issuer, days, plaintextLoginRefused, clearAfterGreeting, problems, keyAlgorithm, keyBits);
        }
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or OperationCanceledException)
        {
            problems.Add("TLS failed: " + (ex is OperationCanceledException ? "timed out" : ex.Message));
            return new BindingCheck(vs.Name, vs.Protocol, endpoint, binding.Mode, false, null, null, 0, false, null, false, null, null, null, plaintextLoginRefused, clearAfterGreeting, problems);
        }
    }

    private static (string? Algorithm, int Bits) KeyOf(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return (null, 0);
        }

        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null)
        {
            return ("RSA", rsa.KeySize);
        }

        using var ecdsa = certificate.GetECDsaPublicKey();
        return ecdsa is not null ? ("EC", ecdsa.KeySize) : (certificate.PublicKey.Oid.FriendlyName ?? certificate.PublicKey.Oid.Value, 0);
    }

    private static async Task<bool> SaysSomethingInClearAsync(TcpClient tcp, CancellationToken ct)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(TimeSpan.FromMilliseconds(700));
        var buffer = new byte[64];
        try
        {
            var read = await tcp.GetStream().ReadAsync(buffer, wait.Token);
            return read > 0;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Speaks the protocol up to STARTTLS; returns whether a clear-text logon was refused, and whether TLS may start.</summary>
    private static async Task<(bool? PlaintextLoginRefused, bool StartTls)> StartTlsDialogAsync(ServiceProtocol protocol, PlainDialog dialog, bool probeLogin, CancellationToken ct)
    {
        switch (protocol)
        {
            case ServiceProtocol.Smtp:
                {
                    await dialog.ReadReplyAsync(protocol, ct);
                    await dialog.CommandAsync(protocol, "EHLO postern-check", ct);
                    bool? refused = null;
                    if (probeLogin)
                    {
                        var auth = await dialog.CommandAsync(protocol, "AUTH PLAIN " + Convert.ToBase64String("\0postern-check\0x"u8), ct);
                        // 235/334/535 mean the credentials were taken in clear; anything else (530, 503…) is a refusal.
                        refused = !(auth.StartsWith("235", StringComparison.Ordinal) || auth.StartsWith("334", StringComparison.Ordinal) || auth.StartsWith("535", StringComparison.Ordinal));
                        if (auth.StartsWith("334", StringComparison.Ordinal))
                        {
                            await dialog.CommandAsync(protocol, "*", ct);
                        }
                    }

                    var reply = await dialog.CommandAsync(protocol, "STARTTLS", ct);
                    return (refused, reply.StartsWith("220", StringComparison.Ordinal));
                }

            case ServiceProtocol.Pop3:
                {
                    await dialog.ReadReplyAsync(protocol, ct);
                    bool? refused = null;
                    if (probeLogin)
                    {
                        var user = await dialog.CommandAsync(protocol, "USER postern-check", ct);
                        refused = user.StartsWith("-ERR", StringComparison.Ordinal);
                    }

                    var reply = await dialog.CommandAsync(protocol, "STLS", ct);
                    return (refused, reply.StartsWith("+OK", StringComparison.Ordinal));
                }

            case ServiceProtocol.Imap:
                {
                    await dialog.ReadReplyAsync(protocol, ct);
                    bool? refused = null;
                    if (probeLogin)
                    {
                        var login = await dialog.CommandAsync(protocol, "c1 LOGIN postern-check x", ct, "c1");
                        refused = !login.Contains("c1 OK", StringComparison.Ordinal) && !login.Contains("c1 NO [AUTHENTICATIONFAILED]", StringComparison.Ordinal);
                    }

                    var reply = await dialog.CommandAsync(protocol, "c2 STARTTLS", ct, "c2");
                    return (refused, reply.Contains("c2 OK", StringComparison.Ordinal));
                }

            case ServiceProtocol.Nntp:
                {
                    await dialog.ReadReplyAsync(protocol, ct);
                    bool? refused = null;
                    if (probeLogin)
                    {
                        var user = await dialog.CommandAsync(protocol, "AUTHINFO USER postern-check", ct);
                        refused = user.StartsWith("483", StringComparison.Ordinal) || user.StartsWith("502", StringComparison.Ordinal);
                    }

                    var reply = await dialog.CommandAsync(protocol, "STARTTLS", ct);
                    return (refused, reply.StartsWith("382", StringComparison.Ordinal));
                }

            default:
                return (null, false);
        }
    }

    private static async Task<string> SecureProbeAsync(ServiceProtocol protocol, PlainDialog dialog, string hostName, CancellationToken ct) => protocol switch
    {
        ServiceProtocol.Smtp => await dialog.CommandAsync(protocol, "EHLO postern-check", ct),
        ServiceProtocol.Pop3 => await dialog.CommandAsync(protocol, "CAPA", ct, multiline: true),
        ServiceProtocol.Imap => await dialog.CommandAsync(protocol, "c3 CAPABILITY", ct, "c3"),
        ServiceProtocol.Nntp => await dialog.CommandAsync(protocol, "DATE", ct),
        ServiceProtocol.Http => await dialog.CommandAsync(protocol, $"HEAD / HTTP/1.1\r\nHost: {hostName}\r\nConnection: close\r\n", ct),
        _ => "",
    };

    /// <summary>A minimal line dialog for the check, not a client library: enough to reach STARTTLS and read one answer.</summary>
    private sealed class PlainDialog(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16384];
        private readonly StringBuilder _pending = new();

        public async Task<string> CommandAsync(ServiceProtocol protocol, string command, CancellationToken ct, string? tag = null, bool multiline = false)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), ct);
            await stream.FlushAsync(ct);
            return await ReadReplyAsync(protocol, ct, tag, multiline);
        }

        public async Task<string> ReadReplyAsync(ServiceProtocol protocol, CancellationToken ct, string? tag = null, bool multiline = false)
        {
            var reply = new StringBuilder();
            while (true)
            {
                var line = await ReadLineAsync(ct);
                if (line is null)
                {
                    return reply.ToString();
                }

                reply.AppendLine(line);
                var done = protocol switch
                {
                    ServiceProtocol.Smtp => line.Length < 4 || line[3] != '-',
                    ServiceProtocol.Imap => tag is null ? line.StartsWith("* ", StringComparison.Ordinal) : line.StartsWith(tag + " ", StringComparison.Ordinal),
                    ServiceProtocol.Pop3 when multiline => line == "." || line.StartsWith("-ERR", StringComparison.Ordinal),
                    ServiceProtocol.Http => line.Length == 0,
                    _ => true,
                };
                if (done)
                {
                    return reply.ToString();
                }
            }
        }

        private async Task<string?> ReadLineAsync(CancellationToken ct)
        {
            while (true)
            {
                var text = _pending.ToString();
                var lf = text.IndexOf('\n', StringComparison.Ordinal);
                if (lf >= 0)
                {
                    _pending.Remove(0, lf + 1);
                    return text[..lf].TrimEnd('\r');
                }

                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                wait.CancelAfter(Timeout);
                var read = await stream.ReadAsync(_buffer, wait.Token);
                if (read == 0)
                {
                    return null;
                }

                _pending.Append(Encoding.Latin1.GetString(_buffer, 0, read));
            }
        }
    }
}
