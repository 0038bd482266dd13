using System.Net;
using Postern.Protocols.Nntp;
using Postern.Protocols.Sasl;
using Postern.Server.Connections;
using Postern.Store;

namespace Postern.Server.Nntp;

/// <summary>STARTTLS (RFC 4642), COMPRESS (RFC 8054), AUTHINFO USER/PASS and SASL (RFC 4643), and news peers known by address.</summary>
internal sealed partial class NntpSession
{
    private IEnumerable<string> SaslMechanisms()
    {
        if (_config.AuthenticationMethods.Contains("PLAIN", StringComparer.OrdinalIgnoreCase))
        {
            yield return "PLAIN";
        }

        if (_connection.Tls?.ClientCertificate is not null && _config.AuthenticationMethods.Contains("EXTERNAL", StringComparer.OrdinalIgnoreCase))
        {
            yield return "EXTERNAL";
        }
    }

    private async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        // RFC 4642 §2.2.1: not after TLS is on or after authentication.
        if (_connection.IsSecure || IsAuthenticated)
        {
            _channel.WriteLine("502 Command unavailable");
            return;
        }

        if (!_connection.CanStartTls)
        {
            _channel.WriteLine("580 Can not initiate TLS negotiation");
            return;
        }

        _channel.WriteLine("382 Continue with TLS negotiation");
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (!await _connection.UpgradeToTlsAsync(cancellationToken).ConfigureAwait(false))
        {
            _quit = true;
            return;
        }

        // RFC 4642 §2.2.2: the client MUST discard knowledge from before; so do we (pipelined input went with the old pipe).
        _account = null;
        _pendingUser = null;
        _group = null;
        _current = null;
        _peerGroupsKnown = false;
        _peerGroups = null;
        _receivingOnlyPeer = null;
    }

    /// <summary>
    /// RFC 8054: DEFLATE on both directions from the line after the 206 reply. Offered only after authentication,
    /// so credentials are never in a compressed stream an attacker could probe (compression oracles).
    /// </summary>
    private async Task<bool> CompressAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        if (!string.Equals(command.Argument(0), "DEFLATE", StringComparison.OrdinalIgnoreCase) || command.Arguments.Count != 1)
        {
            _channel.WriteLine("501 Only COMPRESS DEFLATE is supported");
            return false;
        }

        if (_compressed)
        {
            // RFC 8054 §2.2.2: compression is already active.
            _channel.WriteLine("502 Compression already active");
            return true;
        }

        if (!IsAuthenticated)
        {
            _channel.WriteLine("480 Authentication required before compression");
            return true;
        }

        _channel.WriteLine("206 Compression active");
        await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Built over the current pipes, so compressed bytes the client already pipelined are not lost.
        var inflate = new System.IO.Compression.DeflateStream(_connection.Input.AsStream(leaveOpen: true), System.IO.Compression.CompressionMode.Decompress);
        var deflate = new System.IO.Compression.DeflateStream(_connection.Output.AsStream(leaveOpen: true), System.IO.Compression.CompressionLevel.Fastest);
        _connection.ReplaceTransport(
            System.IO.Pipelines.PipeReader.Create(inflate, new System.IO.Pipelines.StreamPipeReaderOptions(leaveOpen: false)),
            System.IO.Pipelines.PipeWriter.Create(deflate, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: false)));
        _compressed = true;
        return true;
    }

    private async Task<bool> AuthInfoAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var sub = command.Argument(0)?.ToUpperInvariant();
        if (sub is not ("USER" or "PASS" or "SASL") || command.Arguments.Count < 2)
        {
            _channel.WriteLine("501 Syntax: AUTHINFO USER name | AUTHINFO PASS password | AUTHINFO SASL mechanism [initial-response]");
            return false;
        }

        if (IsAuthenticated)
        {
            // RFC 4643 §2.2: after a successful AUTHINFO, it is no longer available.
            _channel.WriteLine("502 Already authenticated");
            return true;
        }

        if (!Authenticator.MayAuthenticate(_connection))
        {
            // RFC 4643 §2.2: 483 when the server requires encryption first.
            _channel.WriteLine("483 Encryption required, use STARTTLS first");
            return true;
        }

        switch (sub)
        {
            case "USER":
                // RFC 4643 §2.3: the argument is the rest of the line after "AUTHINFO USER ", spaces and all, as INN takes it.
                _pendingUser = command.RestAfter(2) ?? "";
                _channel.WriteLine("381 Password required");
                return true;
            case "PASS":
                if (_pendingUser is null)
                {
                    _channel.WriteLine("482 Authentication commands issued out of sequence");
                    return true;
                }

                var user = _pendingUser;
                _pendingUser = null;
                var result = await _authenticator.AuthenticateAsync(_connection, user, command.RestAfter(2) ?? "", null, cancellationToken).ConfigureAwait(false);
                await CompleteAuthenticationAsync(result, cancellationToken).ConfigureAwait(false);
                return true;
            default:
                return await SaslAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> SaslAsync(NntpCommand command, CancellationToken cancellationToken)
    {
        var mechanism = command.Argument(1)!.ToUpperInvariant();
        if (!SaslMechanisms().Contains(mechanism))
        {
            // RFC 4643 §2.4.2: 503 for an unsupported mechanism.
            _channel.WriteLine("503 Mechanism not available");
            return true;
        }

        var response = command.Argument(2);
        if (response is null)
        {
            // RFC 4643 §2.4.1: an empty challenge asks for the initial response.
            _channel.WriteLine("383 ");
            var line = await _channel.ReadLineAsync(SaslLineLength, TimeSpan.FromSeconds(_config.Limits.IdleTimeoutSeconds), cancellationToken).ConfigureAwait(false);
            if (line.Kind != LineResultKind.Line)
            {
                _quit = line.Kind != LineResultKind.TooLong;
                _channel.WriteLine("501 Invalid SASL response");
                return !_quit;
            }

            response = line.Text.Trim();
            if (response == "*")
            {
                _channel.WriteLine("481 Authentication cancelled");
                return true;
            }
        }

        AuthenticationResult result;
        if (mechanism == "PLAIN")
        {
            if (!SaslPlain.TryDecodeBase64(response, out _))
            {
                // RFC 4643 §2.4.1: 504 is for a base64 error only.
                _channel.WriteLine("504 Invalid base64");
                return true;
            }

            // Valid base64 that is no PLAIN message ("=", the empty response, RFC 4643 §2.4.1; a missing NUL): the
            // exchange failed, 481, and counts as a failed attempt.
            result = SaslPlain.TryDecode(response, out var credentials)
                ? await _authenticator.AuthenticateAsync(_connection, credentials.AuthenticationId, credentials.Password, credentials.AuthorizationId, cancellationToken).ConfigureAwait(false)
                : new AuthenticationResult(AuthenticationOutcome.Failed, null);
        }
        else
        {
            if (!SaslPlain.TryDecodeText(response, out var authzid))
            {
                _channel.WriteLine("504 Invalid base64");
                return true;
            }

            result = await _authenticator.AuthenticateExternalAsync(_connection, authzid, cancellationToken).ConfigureAwait(false);
        }

        await CompleteAuthenticationAsync(result, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task CompleteAuthenticationAsync(AuthenticationResult result, CancellationToken cancellationToken)
    {
        if (result.Outcome == AuthenticationOutcome.Success)
        {
            _account = result.Account;
            _channel.WriteLine("281 Authentication accepted");
            return;
        }

        _channel.WriteLine(result.Outcome == AuthenticationOutcome.NeedsEncryption ? "483 Encryption or client certificate required" : "481 Authentication failed");
        if (++_authFailures >= _config.Limits.MaxAuthFailures)
        {
            _channel.WriteLine("400 Too many authentication failures, closing connection");
            await _channel.FlushAsync(cancellationToken).ConfigureAwait(false);
            _quit = true;
        }
    }

    /// <summary>
    /// When the client connects from the address of a configured news peer that feeds this server (setting
    /// nntp.trust-peer-addresses): the groups wildmats of those peers, else null. A peer feeds us when its direction
    /// is pull or both (articles come from it, which is what pull means; both exchanges them); a push peer only
    /// receives our feed. Address trust is for transit only (IHAVE, CHECK, TAKETHIS) and only into the peer's groups,
    /// as INN's incoming.conf patterns: it gives no reader access (INN's innd serves peers, nnrpd readers).
    /// </summary>
    private async ValueTask<IReadOnlyList<string>?> FeedingPeerGroupsAsync(CancellationToken cancellationToken)
    {
        if (_peerGroupsKnown)
        {
            return _peerGroups;
        }

        _peerGroupsKnown = true;
        _peerGroups = null;
        if (!_trustPeerAddresses)
        {
            return null;
        }

        var remote = _connection.RemoteEndPoint.Address;
        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        var groups = new List<string>();
        foreach (var peer in await _context.Store.PublicFolders.ListPeersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!peer.Enabled)
            {
                continue;
            }

            IPAddress[] addresses;
            try
            {
                addresses = IPAddress.TryParse(peer.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(peer.Host, cancellationToken).ConfigureAwait(false);
            }
            catch (System.Net.Sockets.SocketException)
            {
                continue;
            }

            if (addresses.Any(a => (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(remote)))
            {
                if (peer.Direction.HasFlag(NewsFeedDirection.Pull))
                {
                    groups.Add(peer.Groups);
                }
                else
                {
                    _receivingOnlyPeer ??= peer.Name;
                }
            }
        }

        _peerGroups = groups.Count > 0 ? groups : null;
        return _peerGroups;
    }

    private async ValueTask<bool> IsFeedingPeerAsync(CancellationToken cancellationToken) => await FeedingPeerGroupsAsync(cancellationToken).ConfigureAwait(false) is not null;
}
