using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// Coalesces the pushes this silo's client grains make to one edge into one one-way call. Every push is an Orleans
/// message (headers, serialization, a write, and on the edge a dispatch through its observer's single-threaded
/// queue); under load many grains on a silo push to the same few edges in the same instant, so a queue per edge,
/// flushed by one thread-pool work item, turns those into one <see cref="IEdgeObserver.DeliverManyAsync"/>. With
/// no load the flush runs at once (one thread-pool hop, no timer): the window is "whatever arrived while the flush
/// was queued", so batches grow with load and latency does not.
/// </summary>
/// <remarks>
/// Order per client is kept: a grain enqueues in its turn order, one flush at a time drains a queue FIFO, and
/// disconnects travel through the same queue so they never overtake a message pushed before them.
/// </remarks>
internal sealed partial class EdgePushBatcher(GrainMetrics metrics, ILogger<EdgePushBatcher> logger)
{
    private readonly ConcurrentDictionary<string, EdgeQueue> _queues = new(StringComparer.Ordinal);

    /// <summary>Queues <paramref name="batch"/> for <paramref name="edgeId"/>'s observer <paramref name="edge"/>.</summary>
    public void Deliver(string edgeId, IEdgeObserver edge, MailboxBatch batch) =>
        GetQueue(edgeId).Enqueue(new PendingPush(edge, batch, null, null));

    /// <summary>Queues a disconnect of <paramref name="clientId"/> behind the messages already queued for that edge.</summary>
    public void Disconnect(string edgeId, IEdgeObserver edge, string clientId, string code) =>
        GetQueue(edgeId).Enqueue(new PendingPush(edge, null, clientId, code));

    /// <summary>Forgets a dead edge's queue (what is still queued is sent first).</summary>
    public void Forget(string edgeId) => _queues.TryRemove(edgeId, out _);

    private EdgeQueue GetQueue(string edgeId) =>
        _queues.TryGetValue(edgeId, out var queue) ? queue : _queues.GetOrAdd(edgeId, static (id, owner) => new EdgeQueue(id, owner), this);

    private void Send(string edgeId, List<PendingPush> pushes)
    {
        var calls = 0;
        var start = 0;
        for (var i = 0; i <= pushes.Count; i++)
        {
            // A run of deliveries to one observer ends at a disconnect, at another observer (the edge re-created its
            // observer) or at the end; it goes out as one call.
            if (i < pushes.Count && pushes[i].Batch is not null && pushes[i].Observer.Equals(pushes[start].Observer))
            {
                continue;
            }

            if (i > start)
            {
                SendRun(edgeId, pushes, start, i - start);
                calls++;
            }

            if (i < pushes.Count && pushes[i].Batch is null)
            {
                Invoke(edgeId, pushes[i].Observer, static (edge, p) => edge.DisconnectAsync(p.ClientId!, p.Code!), pushes[i]);
                calls++;
                start = i + 1;
            }
            else
            {
                start = i;
            }
        }

        metrics.EdgePushesSent(pushes.Count, calls);
    }

    private void SendRun(string edgeId, List<PendingPush> pushes, int start, int count)
    {
        if (count == 1)
        {
            Invoke(edgeId, pushes[start].Observer, static (edge, batch) => edge.DeliverAsync(batch), pushes[start].Batch!);
            return;
        }

        var batches = new MailboxBatch[count];
        for (var i = 0; i < count; i++)
        {
            batches[i] = pushes[start + i].Batch!;
        }

        Invoke(edgeId, pushes[start].Observer, static (edge, all) => edge.DeliverManyAsync(all), batches);
    }

    private void Invoke<TArg>(string edgeId, IEdgeObserver edge, Func<IEdgeObserver, TArg, Task> push, TArg arg)
    {
        try
        {
            // [OneWay]: completes once queued; a dead edge costs a dropped message, repaired by the mailbox and resume.
            var task = push(edge, arg);
            if (!task.IsCompletedSuccessfully)
            {
                _ = ObserveAsync(task, edgeId);
            }
        }
        catch (Exception ex)
        {
            // One failing edge or message never stops the others.
            Log.PushFailed(logger, ex, edgeId);
        }
    }

    private async Task ObserveAsync(Task task, string edgeId)
    {
        try
        {
            await task;
        }
        catch (Exception ex)
        {
            Log.PushFailed(logger, ex, edgeId);
        }
    }

    private readonly record struct PendingPush(IEdgeObserver Observer, MailboxBatch? Batch, string? ClientId, string? Code);

    /// <summary>One edge's pending pushes; at most one flush of it is queued or running at any time.</summary>
    private sealed class EdgeQueue(string edgeId, EdgePushBatcher owner) : IThreadPoolWorkItem
    {
        private readonly Lock _gate = new();
        private List<PendingPush> _pending = [];
        private List<PendingPush>? _spare;
        private bool _scheduled;

        public void Enqueue(PendingPush push)
        {
            lock (_gate)
            {
                _pending.Add(push);
                if (_scheduled)
                {
                    return;
                }

                _scheduled = true;
            }

            // Not preferLocal: behind the grain turns already queued, so what they push joins this flush.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        public void Execute()
        {
            List<PendingPush> pushes;
            lock (_gate)
            {
                pushes = _pending;
                _pending = _spare ?? [];
                _spare = null;
            }

            owner.Send(edgeId, pushes);
            pushes.Clear();
            lock (_gate)
            {
                _spare = pushes;
                if (_pending.Count == 0)
                {
                    _scheduled = false;
                    return;
                }
            }

            // More arrived while sending: queue again rather than loop, so they can keep gathering meanwhile.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(23, LogLevel.Warning, "Push to edge {EdgeId} failed", EventName = "BatchedPushFailed")]
        public static partial void PushFailed(ILogger logger, Exception exception, string edgeId);
    }
}
