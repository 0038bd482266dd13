using Postern.Server.Connections;
using Postern.Store;

namespace Postern.IntegrationTests.Infrastructure;

/// <summary>A line-echo protocol for connection-layer tests: what a test sends, it reads back.</summary>
public sealed class EchoHandler : IProtocolHandler
{
    public ServiceProtocol Protocol => ServiceProtocol.Smtp;

    public ReadOnlyMemory<byte> BusyReply => "busy\r\n"u8.ToArray();

    public ReadOnlyMemory<byte> ShutdownReply => "bye\r\n"u8.ToArray();

    public async Task RunSessionAsync(MailConnection connection, CancellationToken cancellationToken)
    {
        var channel = new LineChannel(connection);
        while (true)
        {
            var line = await channel.ReadLineAsync(1000, TimeSpan.FromSeconds(10), cancellationToken);
            if (line.Kind != LineResultKind.Line)
            {
                return;
            }

            channel.WriteLine(line.Text);
        }
    }
}
