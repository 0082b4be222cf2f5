using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// Gathers the one-way <c>send</c>s this edge's sessions make in the same instant into one call to a silo's
/// <see cref="ISendIngress"/> (<c>Gateway:Edge:BatchSends</c>), as silos gather their pushes to an edge
/// (<c>EdgePushQueue</c>): a thread-pool work item is queued when the first send arrives and takes everything queued
/// by the time it runs. With no load that is one send at once (one thread-pool hop, no timer); under load batches grow,
/// and the edge pays one Orleans message per batch instead of one per send (docs/benchmarks.md, "Batched sends").
/// </summary>
/// <remarks>
/// Answers are unchanged: each send keeps its ticket (<see cref="SendTickets"/>) and its answer rides in the push of
/// the recipient grain's silo. A batch that cannot leave fails its tickets at once; one lost on the way leaves them to
/// the ticket timeout (taken or not: the ambiguity of any lost answer). Order needs nothing here: a session waits for
/// a send's answer before its next frame.
/// </remarks>
internal sealed class SendBatcher : IThreadPoolWorkItem
{
    /// <summary>At most this many sends per call.</summary>
    internal const int MaxSends = 256;

    /// <summary>At most this many payload bytes per call (a larger single send still goes, alone).</summary>
    internal const int MaxBytes = 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly ISendIngress _ingress;
    private readonly SendTickets _tickets;
    private readonly EdgeMetrics _metrics;
    private List<OutboundSend> _pending = [];
    private List<OutboundSend>? _spare;
    private bool _scheduled;

    public SendBatcher(IGrainFactory grains, SendTickets tickets, EdgeMetrics metrics)
        : this(grains.GetGrain<ISendIngress>(tickets.EdgeId), tickets, metrics)
    {
    }

    internal SendBatcher(ISendIngress ingress, SendTickets tickets, EdgeMetrics metrics)
    {
        _ingress = ingress;
        _tickets = tickets;
        _metrics = metrics;
    }

    /// <summary>Queues <paramref name="send"/>, already ticketed, for the next batch.</summary>
    public void Enqueue(OutboundSend send)
    {
        lock (_gate)
        {
            _pending.Add(send);
            if (_scheduled)
            {
                return;
            }

            _scheduled = true;
        }

        QueueFlush();
    }

    // Not preferLocal: behind the frames already queued, so the sends they make join this batch.
    private void QueueFlush() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    void IThreadPoolWorkItem.Execute()
    {
        List<OutboundSend> sends;
        lock (_gate)
        {
            sends = _pending;
            _pending = _spare ?? [];
            _spare = null;
        }

        Send(sends);
        sends.Clear();
        lock (_gate)
        {
            _spare = sends;
            if (_pending.Count == 0)
            {
                _scheduled = false;
                return;
            }
        }

        // More arrived while sending: queue again rather than loop, so they can keep gathering meanwhile.
        QueueFlush();
    }

    private void Send(List<OutboundSend> sends)
    {
        var start = 0;
        while (start < sends.Count)
        {
            var end = start;
            var bytes = 0L;
            while (end < sends.Count && end - start < MaxSends && (end == start || bytes + sends[end].Data.Length <= MaxBytes))
            {
                bytes += sends[end].Data.Length;
                end++;
            }

            var batch = sends.GetRange(start, end - start).ToArray();
            _metrics.SendsBatched(batch.Length);
            try
            {
                // [OneWay]: completes once queued on the connection to the gateway.
                var queued = _ingress.SendManyAsync(_tickets.EdgeId, batch);
                if (!queued.IsCompletedSuccessfully)
                {
                    _ = FailIfNotQueuedAsync(queued, batch);
                }
            }
            catch (Exception ex)
            {
                Fail(batch, ex);
            }

            start = end;
        }
    }

    private async Task FailIfNotQueuedAsync(Task queued, OutboundSend[] batch)
    {
        try
        {
            await queued;
        }
        catch (Exception ex)
        {
            Fail(batch, ex);
        }
    }

    private void Fail(OutboundSend[] batch, Exception exception)
    {
        foreach (var send in batch)
        {
            _tickets.Fail(send.Ticket, exception);
        }
    }
}
