using System.Diagnostics.Metrics;
using Postern.Server.Connections;

namespace Postern.UnitTests.Connections;

public sealed class ServerMetricsTests
{
    [Fact]
    public void Each_protocol_publishes_its_counters_through_its_own_meter()
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Postern.Nntp")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name + string.Concat(tags.ToArray().Select(t => "/" + t.Value));
            lock (seen)
            {
                seen[key] = value;
            }
        });
        listener.Start();

        // Counters only grow (other tests in this process may add to them), so the test looks for the growth.
        listener.RecordObservableInstruments();
        var before = seen.GetValueOrDefault("postern.nntp.articles.accepted");
        var logonsBefore = seen.GetValueOrDefault("postern.logons/failed");
        ServerMetrics.Nntp.Item();
        ServerMetrics.Nntp.Logon(succeeded: false);
        listener.RecordObservableInstruments();

        Assert.True(seen["postern.nntp.articles.accepted"] >= before + 1);
        Assert.True(seen["postern.logons/failed"] >= logonsBefore + 1);
        Assert.Contains("postern.connections.accepted", seen.Keys);
        Assert.Contains("postern.connections.active", seen.Keys);
        Assert.Contains("postern.tls.handshakes/ok", seen.Keys);
    }
}
