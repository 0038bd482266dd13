using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Postern.Server.Connections;

namespace Postern.Host.Serve;

/// <summary>
/// Kestrel's socket transport with the console's connections counted against the open-files budget the mail ports
/// share (<see cref="FileDescriptorBudget"/>), at accept. Checked later, in connection middleware, a burst held every
/// socket Kestrel had accepted and not yet handed to the middleware (hundreds on a busy machine), past the reserve the
/// budget keeps for the store and the mail sessions.
/// </summary>
internal sealed class BudgetedConnectionListenerFactory(IConnectionListenerFactory transport) : IConnectionListenerFactory
{
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new Listener(await transport.BindAsync(endpoint, cancellationToken).ConfigureAwait(false));

    private sealed class Listener(IConnectionListener inner) : IConnectionListener
    {
        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var connection = await inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
                if (connection is null)
                {
                    return null;
                }

                if (FileDescriptorBudget.TryAcquire())
                {
                    return new BudgetedConnection(connection);
                }

                // Over the budget: closed before Kestrel sees it (before TLS), giving its descriptor back at once; as Kestrel
                // closes a connection over its own limit (a FIN, not a reset).
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>The transport's connection, giving its place in the budget back when its socket is closed.</summary>
    private sealed class BudgetedConnection(ConnectionContext inner) : ConnectionContext
    {
        private int _released;

        public override string ConnectionId { get => inner.ConnectionId; set => inner.ConnectionId = value; }

        public override IFeatureCollection Features => inner.Features;

        public override IDictionary<object, object?> Items { get => inner.Items; set => inner.Items = value; }

        public override IDuplexPipe Transport { get => inner.Transport; set => inner.Transport = value; }

        public override CancellationToken ConnectionClosed { get => inner.ConnectionClosed; set => inner.ConnectionClosed = value; }

        public override EndPoint? LocalEndPoint { get => inner.LocalEndPoint; set => inner.LocalEndPoint = value; }

        public override EndPoint? RemoteEndPoint { get => inner.RemoteEndPoint; set => inner.RemoteEndPoint = value; }

        public override void Abort() => inner.Abort();

        public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

        public override async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                if (Interlocked.Exchange(ref _released, 1) == 0)
                {
                    FileDescriptorBudget.Release();
                }

                await base.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
