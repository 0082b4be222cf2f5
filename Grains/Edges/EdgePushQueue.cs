using Microsoft.Extensions.Logging;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// Coalesces what this silo's grains push to one edge, direct messages and channel publications alike, into one
/// one-way <see cref="IEdgeObserver.PushAsync"/>. Every push is an Orleans message (headers, serialization, a write,
/// and on the edge a dispatch through its observer's single-threaded queue); under load many grains on a silo push to
/// the same few edges in the same instant, so the queue is flushed by one thread-pool work item. With no load the
/// flush runs at once (one thread-pool hop, no timer): the window is "whatever arrived while the flush was queued",
/// so batches grow with load and latency does not.
/// </summary>
/// <remarks>
/// Order per client and per channel is kept: a grain enqueues in its turn order, one flush at a time drains the queue
/// FIFO, and disconnects travel through the same queue so they never overtake a message pushed before them.
/// </remarks>
internal sealed partial class EdgePushQueue(EdgeRoute route, GrainMetrics metrics, ILogger logger) : IThreadPoolWorkItem
{
    private readonly Lock _gate = new();
    private List<Pending> _pending = [];
    private List<Pending>? _spare;

    // Answers to one-way sends: unordered among themselves and against the pushes, so kept apart and sent with the
    // flush's first push call (or alone), without a box per answer.
    private List<SendAck> _acks = [];
    private List<SendAck>? _spareAcks;
    private bool _scheduled;

    public void Enqueue(MailboxBatch batch) => Enqueue(new Pending(batch, null));

    public void Enqueue(ChannelBatch batch) => Enqueue(new Pending(batch, null));

    /// <summary>Queues the answer to a one-way send made through this edge.</summary>
    public void Enqueue(SendAck ack)
    {
        lock (_gate)
        {
            _acks.Add(ack);
            if (!StartFlush())
            {
                return;
            }
        }

        QueueFlush();
    }

    /// <summary>Queues a disconnect of <paramref name="clientId"/> behind the messages already queued for the edge.</summary>
    public void EnqueueDisconnect(string clientId, string code) => Enqueue(new Pending(clientId, code));

    private void Enqueue(Pending push)
    {
        lock (_gate)
        {
            _pending.Add(push);
            if (!StartFlush())
            {
                return;
            }
        }

        QueueFlush();
    }

    /// <summary>Under the gate: true when no flush is scheduled yet (the caller then queues one).</summary>
    private bool StartFlush()
    {
        if (_scheduled)
        {
            return false;
        }

        _scheduled = true;
        return true;
    }

    // Not preferLocal: behind the grain turns already queued, so what they push joins this flush.
    private void QueueFlush() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    void IThreadPoolWorkItem.Execute()
    {
        List<Pending> pushes;
        List<SendAck> acks;
        lock (_gate)
        {
            pushes = _pending;
            _pending = _spare ?? [];
            _spare = null;
            acks = _acks;
            _acks = _spareAcks ?? [];
            _spareAcks = null;
        }

        Send(pushes, acks);
        pushes.Clear();
        acks.Clear();
        lock (_gate)
        {
            _spare = pushes;
            _spareAcks = acks;
            if (_pending.Count == 0 && _acks.Count == 0)
            {
                _scheduled = false;
                return;
            }
        }

        // More arrived while sending: queue again rather than loop, so they can keep gathering meanwhile.
        QueueFlush();
    }

    private void Send(List<Pending> pushes, List<SendAck> acks)
    {
        // Read once: the whole flush goes to the observer the edge serves now.
        var edge = route.Observer;
        var calls = 0;
        var start = 0;
        SendAck[]? answers = acks.Count == 0 ? null : acks.ToArray();
        for (var i = 0; i <= pushes.Count; i++)
        {
            // A run of batches ends at a disconnect or at the end; it goes out as one call.
            if (i < pushes.Count && pushes[i].DisconnectCode is null)
            {
                continue;
            }

            if (i > start || (answers is not null && i == pushes.Count))
            {
                Invoke(edge, static (edge, push) => edge.PushAsync(push), ToPush(pushes, start, i, answers));
                answers = null;
                calls++;
            }

            if (i < pushes.Count)
            {
                Invoke(edge, static (edge, p) => edge.DisconnectAsync((string)p.Payload, p.DisconnectCode!), pushes[i]);
                calls++;
            }

            start = i + 1;
        }

        metrics.EdgePushesSent(pushes.Count + acks.Count, calls);
    }

    private static EdgePush ToPush(List<Pending> pushes, int start, int end, SendAck[]? acks)
    {
        var mailboxCount = 0;
        for (var i = start; i < end; i++)
        {
            mailboxCount += pushes[i].Payload is MailboxBatch ? 1 : 0;
        }

        var mailboxes = mailboxCount == 0 ? [] : new MailboxBatch[mailboxCount];
        var channels = mailboxCount == end - start ? [] : new ChannelBatch[end - start - mailboxCount];
        int m = 0, c = 0;
        for (var i = start; i < end; i++)
        {
            if (pushes[i].Payload is MailboxBatch mailbox)
            {
                mailboxes[m++] = mailbox;
            }
            else
            {
                channels[c++] = (ChannelBatch)pushes[i].Payload;
            }
        }

        return new EdgePush(mailboxes, channels) { Acks = acks };
    }

    private void Invoke<TArg>(IEdgeObserver edge, Func<IEdgeObserver, TArg, Task> push, TArg arg)
    {
        try
        {
            // [OneWay]: completes once queued; a dead edge costs a dropped message, repaired by the mailbox and resume.
            var task = push(edge, arg);
            if (!task.IsCompletedSuccessfully)
            {
                _ = ObserveAsync(task);
            }
        }
        catch (Exception ex)
        {
            // One failing edge or message never stops the others.
            Log.PushFailed(logger, ex, route.EdgeId);
        }
    }

    private async Task ObserveAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex)
        {
            Log.PushFailed(logger, ex, route.EdgeId);
        }
    }

    /// <summary>A <see cref="MailboxBatch"/>, a <see cref="ChannelBatch"/>, or a client id with its disconnect code.</summary>
    private readonly record struct Pending(object Payload, string? DisconnectCode);

    private static partial class Log
    {
        [LoggerMessage(23, LogLevel.Warning, "Push to edge {EdgeId} failed", EventName = "BatchedPushFailed")]
        public static partial void PushFailed(ILogger logger, Exception exception, string edgeId);
    }
}
