using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Postern.Store;

namespace Postern.Server.Pop3;

/// <summary>
/// RFC 1939 §8: "the POP3 server then acquires an exclusive-access lock on the maildrop, as necessary to prevent
/// messages from being modified or removed before the session enters the UPDATE state".
/// The lock is a row in pop3_locks, so it also excludes sessions of another process on the same database;
/// this process refreshes the expiry of all its rows with one write per period, and a row left by a crashed
/// process lapses after <see cref="Lifetime"/>.
/// </summary>
internal sealed class Pop3MaildropLocks
{
    private readonly IDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _owner = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<long, long> _held = new();
    private readonly Lock _timerGate = new();
    private ITimer? _heartbeat;

    public Pop3MaildropLocks(IDatabase database, TimeProvider time, ILogger logger, TimeSpan lifetime)
    {
        _database = database;
        _time = time;
        _logger = logger;
        Lifetime = lifetime < TimeSpan.FromSeconds(3) ? TimeSpan.FromSeconds(3) : lifetime;
    }

    public TimeSpan Lifetime { get; }

    /// <summary>Mailboxes this process holds locks on (for tests and diagnostics).</summary>
    public int HeldCount => _held.Count;

    public async Task<bool> TryAcquireAsync(long mailboxId, long sessionId, CancellationToken cancellationToken)
    {
        // Another session of this process holds it: no need to ask the database.
        if (_held.ContainsKey(mailboxId))
        {
            return false;
        }

        var now = _time.GetUtcNow();
        var acquired = await _database.WriteAsync(w =>
        {
            w.Command("DELETE FROM pop3_locks WHERE mailbox_id = @m AND expires < @now", ("@m", mailboxId), ("@now", now.ToUnixTimeMilliseconds())).Execute();
            return w.Command(
                "INSERT INTO pop3_locks (mailbox_id, owner, session, acquired, expires) VALUES (@m, @o, @s, @now, @e) ON CONFLICT (mailbox_id) DO NOTHING",
                ("@m", mailboxId), ("@o", _owner), ("@s", sessionId), ("@now", now.ToUnixTimeMilliseconds()), ("@e", (now + Lifetime).ToUnixTimeMilliseconds())).Execute() == 1;
        }, cancellationToken).ConfigureAwait(false);
        if (!acquired)
        {
            return false;
        }

        _held[mailboxId] = sessionId;
        lock (_timerGate)
        {
            var period = Lifetime / 3;
            _heartbeat ??= _time.CreateTimer(_ => _ = RefreshAsync(), null, period, period);
        }

        return true;
    }

    public async Task ReleaseAsync(long mailboxId, long sessionId, CancellationToken cancellationToken)
    {
        try
        {
            await _database.WriteAsync(w =>
                w.Command("DELETE FROM pop3_locks WHERE mailbox_id = @m AND owner = @o AND session = @s", ("@m", mailboxId), ("@o", _owner), ("@s", sessionId)).Execute(),
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _held.TryRemove(new KeyValuePair<long, long>(mailboxId, sessionId));
            lock (_timerGate)
            {
                if (_held.IsEmpty)
                {
                    _heartbeat?.Dispose();
                    _heartbeat = null;
                }
            }
        }
    }

    private async Task RefreshAsync()
    {
        if (_held.IsEmpty)
        {
            return;
        }

        try
        {
            var expires = (_time.GetUtcNow() + Lifetime).ToUnixTimeMilliseconds();
            await _database.WriteAsync(w => w.Command("UPDATE pop3_locks SET expires = @e WHERE owner = @o", ("@e", expires), ("@o", _owner)).Execute(), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The next period tries again; a lock only lapses after a whole lifetime without refresh.
            _logger.LogWarning(ex, "POP3: could not refresh maildrop locks");
        }
    }
}
