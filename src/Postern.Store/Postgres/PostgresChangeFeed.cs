using System.Globalization;
using System.Threading.Channels;
using Npgsql;

namespace Postern.Store.Postgres;

/// <summary>
/// Mailbox changes across the nodes that share one PostgreSQL database: each change is published to this node's own
/// sessions at once and sent to the other nodes with NOTIFY; a listening connection hands theirs to this node's
/// sessions. Sessions only need to learn that a mailbox changed (they read what changed from the store), so the payload
/// is the mailbox key and the kind of change.
/// </summary>
internal sealed class PostgresChangeFeed : IChangeFeed, IAsyncDisposable
{
    private const string ChannelName = "postern_changes";

    private readonly InProcessChangeFeed _local = new();
    private readonly string _connectionString;
    private readonly string _node = Guid.NewGuid().ToString("N");
    private readonly Channel<MailboxChange> _outgoing = Channel.CreateBounded<MailboxChange>(new BoundedChannelOptions(100_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropOldest,
    });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sender;
    private readonly Task _listener;

    public PostgresChangeFeed(string connectionString)
    {
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // NOTIFY and LISTEN are session state: these connections are never shared through a pool.
            Pooling = false,
            KeepAlive = 30,
            MaxAutoPrepare = 0,
        }.ConnectionString;
        _sender = Task.Run(() => SendAsync(_stopping.Token));
        _listener = Task.Run(() => ListenAsync(_stopping.Token));
    }

    public IDisposable Subscribe(long mailboxId, Action<MailboxChange> onChange) => _local.Subscribe(mailboxId, onChange);

    public void Publish(MailboxChange change)
    {
        _local.Publish(change);
        _outgoing.Writer.TryWrite(change);
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                while (await _outgoing.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    // Changes that came together go in one round trip.
                    await using var batch = new NpgsqlBatch(connection);
                    while (batch.BatchCommands.Count < 100 && _outgoing.Reader.TryRead(out var change))
                    {
                        var command = new NpgsqlBatchCommand("SELECT pg_notify(@c, @p)");
                        command.Parameters.AddWithValue("c", ChannelName);
                        command.Parameters.AddWithValue("p", Payload(change));
                        batch.BatchCommands.Add(command);
                    }

                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.IO.IOException)
            {
                // The server went away: the other nodes' listeners will report every mailbox changed when they return.
                await Delay(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var first = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += (_, e) => Receive(e.Payload);
                await using (var listen = new NpgsqlCommand("LISTEN " + ChannelName, connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                // Whatever other nodes changed while this node was not listening went unannounced: every session
                // looks at its mailbox again.
                if (!first)
                {
                    _local.PublishToAll();
                }

                first = false;
                while (!cancellationToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.IO.IOException)
            {
                first = false;
                await Delay(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private string Payload(MailboxChange change) =>
        string.Create(CultureInfo.InvariantCulture, $"{_node}:{change.MailboxId}:{(int)change.Kind}");

    private void Receive(string payload)
    {
        var parts = payload.Split(':');
        if (parts.Length != 3 || parts[0] == _node
            || !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var mailboxId)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var kind))
        {
            return;
        }

        _local.Publish(new MailboxChange(mailboxId, (MailboxChangeKind)kind, 0, []));
    }

    private static async Task Delay(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _outgoing.Writer.TryComplete();
        await Task.WhenAll(_sender, _listener).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
