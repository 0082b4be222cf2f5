using System.Diagnostics.Metrics;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Diagnostics;

/// <summary>Edge metrics over <see cref="IMeterFactory"/> (meter <see cref="MeterName"/>).</summary>
internal sealed class EdgeMetrics
{
    public const string MeterName = "OrleansGateway.Edge";

    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _opened;
    private readonly Counter<long> _closed;
    private readonly Counter<long> _framesIn;
    private readonly Counter<long> _framesOut;
    private readonly Counter<long> _delivered;
    private readonly Histogram<double> _deliveryLatency;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _notRecovered;
    private readonly Counter<long> _outboxOverflows;
    private readonly UpDownCounter<long> _drains;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _batchedSends;
    private readonly Counter<long> _sendCalls;

    public EdgeMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>("ogw.edge.connections", "{connection}", "WebSocket sessions currently open");
        _opened = meter.CreateCounter<long>("ogw.edge.connections.opened", "{connection}", "WebSocket sessions opened");
        _closed = meter.CreateCounter<long>("ogw.edge.connections.closed", "{connection}", "WebSocket sessions closed, by close code");
        _framesIn = meter.CreateCounter<long>("ogw.edge.frames.in", "{frame}", "Client frames received");
        _framesOut = meter.CreateCounter<long>("ogw.edge.frames.out", "{frame}", "Server frames written");
        _delivered = meter.CreateCounter<long>("ogw.edge.messages.delivered", "{message}", "Mailbox messages pushed to sessions");
        // Per message. The accept time is the silo's clock in whole milliseconds, so buckets below 1 ms would be noise.
        _deliveryLatency = meter.CreateHistogram<double>("ogw.edge.delivery.latency", "ms", "Mailbox or channel accept (silo clock) to edge fan-out, per message",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000] });
        _replayed = meter.CreateCounter<long>("ogw.edge.resume.replayed", "{message}", "Messages replayed on resume");
        _notRecovered = meter.CreateCounter<long>("ogw.edge.resume.not_recovered", "{session}", "Resumes answered recovered:false");
        _outboxOverflows = meter.CreateCounter<long>("ogw.edge.outbox.overflows", "{session}", "Sessions closed as slow consumers");
        _rateLimited = meter.CreateCounter<long>("ogw.edge.frames.rate_limited", "{frame}", "Client frames refused with err rate_limited");
        _drains = meter.CreateUpDownCounter<long>("ogw.edge.drains", "{drain}", "Drains in progress on this edge");
        _batchedSends = meter.CreateCounter<long>("ogw.edge.sends.batched", "{send}", "Sends handed to silos in batches (Gateway:Edge:BatchSends)");
        _sendCalls = meter.CreateCounter<long>("ogw.edge.send_calls", "{call}", "Calls that carried the batched sends (sends / calls = batch size)");
    }

    public void SessionOpened()
    {
        _connections.Add(1);
        _opened.Add(1);
    }

    public void SessionClosed(CloseReason reason)
    {
        _connections.Add(-1);
        _closed.Add(1, new KeyValuePair<string, object?>("code", (int)reason.Status));
    }

    public void FrameIn() => _framesIn.Add(1);

    /// <summary>One call to a silo carried <paramref name="sends"/> batched sends.</summary>
    public void SendsBatched(int sends)
    {
        _batchedSends.Add(sends);
        _sendCalls.Add(1);
    }

    public void FrameOut() => _framesOut.Add(1);

    /// <summary><paramref name="messages"/> fanned out to <paramref name="sessions"/> local sessions each.</summary>
    public void Delivered(IReadOnlyList<StreamMessage> messages, int sessions, long nowUnixMs)
    {
        _delivered.Add((long)messages.Count * sessions);
        if (!_deliveryLatency.Enabled)
        {
            return;
        }

        for (var i = 0; i < messages.Count; i++)
        {
            _deliveryLatency.Record(nowUnixMs - messages[i].AcceptedAtUnixMs);
        }
    }

    public void Resumed(int replayed, bool recovered)
    {
        _replayed.Add(replayed);
        if (!recovered)
        {
            _notRecovered.Add(1);
        }
    }

    public void OutboxOverflow() => _outboxOverflows.Add(1);

    public void RateLimited() => _rateLimited.Add(1);

    public void DrainStarted() => _drains.Add(1);

    public void DrainEnded() => _drains.Add(-1);
}
