using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Postern.Store;

namespace Postern.Server.Pop3;

/// <summary>
/// RFC 1939 §8: "the POP3 server then acquires an exclusive-access lock on the maildrop, as necessary to prevent
/// messages from being modified or removed before the session enters the UPDATE state".
/// The lock is a row in pop3_locks, so it also excludes sessions of another process on the same database;
/// this process refreshes the expiry of all its rows with one write per period, and a row left by a crashed
/// process lapses after <see cref="Lifetime"/> — or at once when the owner names a process on this machine
/// that no longer runs (a restart after a crash does not lock users out).
/// </summary>
internal sealed class Pop3MaildropLocks
{
    private readonly IDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // "machine/pid/instance": lets a restarted server see that a lock's holder on this machine is gone.
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
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

        string? holder;
        try
        {
            holder = await TryInsertAsync(mailboxId, sessionId, null, cancellationToken).ConfigureAwait(false);
            if (holder is not null && IsDeadLocalHolder(holder))
            {
                // A server on this machine crashed with the lock held: no need to wait for it to lapse.
                holder = await TryInsertAsync(mailboxId, sessionId, holder, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (StorageFull.Is(ex))
        {
            // On a full disk no lock row can be written, and users must still read (and delete, freeing space) their
            // mail: a lock another process holds is still honoured, otherwise this process's own lock has to do.
            _logger.LockWithoutRow(mailboxId);
            holder = await HolderAsync(mailboxId, cancellationToken).ConfigureAwait(false);
            return holder is null && _held.TryAdd(mailboxId, sessionId);
        }

        if (holder is not null)
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
            await _database.WriteVolatileAsync(w =>
                w.Command("DELETE FROM pop3_locks WHERE mailbox_id = @m AND owner = @o AND session = @s", ("@m", mailboxId), ("@o", _owner), ("@s", sessionId)).Execute(),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFull.Is(ex))
        {
            // No row to remove (taken on a full disk), or one that cannot be removed now: it lapses after Lifetime.
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

    /// <summary>Inserts the lock row; null when acquired, otherwise the owner holding it.</summary>
    private Task<string?> TryInsertAsync(long mailboxId, long sessionId, string? evictOwner, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        // A lock row is worthless after a crash (it expires, or a dead holder is evicted), so it is not fsynced.
        return _database.WriteVolatileAsync(w =>
        {
            w.Command("DELETE FROM pop3_locks WHERE mailbox_id = @m AND (expires < @now OR owner = @evict)", ("@m", mailboxId), ("@now", now), ("@evict", evictOwner)).Execute();
            var inserted = w.Command(
                "INSERT INTO pop3_locks (mailbox_id, owner, session, acquired, expires) VALUES (@m, @o, @s, @now, @e) ON CONFLICT (mailbox_id) DO NOTHING",
                ("@m", mailboxId), ("@o", _owner), ("@s", sessionId), ("@now", now), ("@e", now + (long)Lifetime.TotalMilliseconds)).Execute() == 1;
            return inserted ? null : w.Command("SELECT owner FROM pop3_locks WHERE mailbox_id = @m", ("@m", mailboxId)).Scalar<string>() ?? "";
        }, cancellationToken);
    }

    /// <summary>The owner of the unexpired lock row on the mailbox, if there is one.</summary>
    private Task<string?> HolderAsync(long mailboxId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return _database.ReadAsync(c => c.CreateCommand("SELECT owner FROM pop3_locks WHERE mailbox_id = @m AND expires >= @now", ("@m", mailboxId), ("@now", now)).Scalar<string>(), cancellationToken);
    }

    /// <summary>True when the owner names a process on this machine that no longer runs.</summary>
    internal static bool IsDeadLocalHolder(string owner)
    {
        var parts = owner.Split('/');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
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
            await _database.WriteVolatileAsync(w => w.Command("UPDATE pop3_locks SET expires = @e WHERE owner = @o", ("@e", expires), ("@o", _owner)).Execute(), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The next period tries again; a lock only lapses after a whole lifetime without refresh.
            _logger.LockRefreshFailed(ex);
        }
    }
}
