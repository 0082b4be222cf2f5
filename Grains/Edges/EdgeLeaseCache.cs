using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// Per-silo cache of edge leases. Every client grain on a silo asks it whether an edge is alive; it asks the
/// edge grain only when its copy has lapsed, so the cost is one call per edge per lease period per silo,
/// not one per client grain.
/// </summary>
internal sealed partial class EdgeLeaseCache
{
    /// <summary>How long an edge whose lease could not be read, or was found lapsed, is taken as known before asking again.</summary>
    private static readonly TimeSpan UnknownGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a lease lookup may take before it counts as failed. A lookup is a call to the edge grain, and a call
    /// whose message a stopping silo lost is answered only by Orleans' 30 s response timeout.
    /// </summary>
    public static readonly TimeSpan DefaultLookupTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    // Every attach deserializes its own copy of the edge id and of the edge's observer reference (~150 B together);
    // a silo holds hundreds of thousands of idle grains attached through a handful of edges, so they share one copy.
    private readonly ConcurrentDictionary<string, EdgeHandle> _handles = new(StringComparer.Ordinal);

    private readonly Func<string, Task<EdgeLease>> _lookup;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lookupTimeout;
    private readonly ILogger<EdgeLeaseCache> _logger;

    public EdgeLeaseCache(IGrainFactory grains, TimeProvider time, ILogger<EdgeLeaseCache> logger)
        // The edge grain lives on a silo, never on an edge: this call cannot hang on a dead edge.
        : this(edgeId => grains.GetGrain<IEdgeGrain>(edgeId).GetLeaseAsync(), time, logger, DefaultLookupTimeout)
    {
    }

    internal EdgeLeaseCache(Func<string, Task<EdgeLease>> lookup, TimeProvider time, ILogger<EdgeLeaseCache> logger, TimeSpan lookupTimeout)
    {
        _lookup = lookup;
        _time = time;
        _logger = logger;
        _lookupTimeout = lookupTimeout;
    }

    /// <summary>
    /// The share of <paramref name="edgeId"/> and <paramref name="observer"/> this silo keeps (equal to the arguments):
    /// grains keep these instead of the copies their call deserialized. A new observer of the edge (it reconnected to
    /// the cluster) replaces the old one.
    /// </summary>
    public (string EdgeId, IEdgeObserver Observer) Share(string edgeId, IEdgeObserver observer)
    {
        if (_handles.TryGetValue(edgeId, out var known) && known.Observer.Equals(observer))
        {
            return (known.EdgeId, known.Observer);
        }

        _handles[edgeId] = new EdgeHandle(edgeId, observer);
        return (edgeId, observer);
    }

    /// <summary>
    /// For pushes: answers at once and never waits for a lookup. When the cached copy has run out it answers with the
    /// last known state (alive if never looked up) and refreshes in the background. A push is a one-way message on
    /// every grain's hot path: awaiting the lookup there made every grain of the silo pushing to that edge wait for
    /// it, and a lookup lost in a silo stop held them all for 30 s. Pushing once more to an edge that just died
    /// costs a dropped one-way message; the next push (or the sweep) sees the answer and drops the edge.
    /// </summary>
    public bool IsAlive(string edgeId)
    {
        if (!_entries.TryGetValue(edgeId, out var entry))
        {
            _ = RefreshAsync(edgeId);
            return true;
        }

        if (entry.ValidUntil <= _time.GetUtcNow() && entry.Refresh is null)
        {
            _ = RefreshAsync(edgeId);
        }

        return entry.Alive;
    }

    /// <summary>
    /// For pruning (attach, presence, the dead-edge sweep): waits for a current answer, at most the lookup timeout;
    /// a lookup that fails or times out answers alive (fail open) for a moment.
    /// </summary>
    public ValueTask<bool> IsAliveAsync(string edgeId)
    {
        if (_entries.TryGetValue(edgeId, out var entry))
        {
            if (entry.ValidUntil > _time.GetUtcNow())
            {
                return ValueTask.FromResult(entry.Alive);
            }

            if (entry.Refresh is { } pending)
            {
                return new ValueTask<bool>(pending);
            }
        }

        return new ValueTask<bool>(RefreshAsync(edgeId));
    }

    private Task<bool> RefreshAsync(string edgeId)
    {
        var refresh = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = _entries.AddOrUpdate(
            edgeId,
            static (_, r) => new Entry(DateTimeOffset.MinValue, true, r),
            static (_, old, r) => old.Refresh is null ? old with { Refresh = r } : old,
            refresh.Task);
        if (current.Refresh != refresh.Task)
        {
            return current.Refresh!; // another caller's lookup is already under way
        }

        _ = LookupAsync(edgeId, refresh);
        return refresh.Task;
    }

    private async Task LookupAsync(string edgeId, TaskCompletionSource<bool> refresh)
    {
        Entry entry;
        try
        {
            var lease = await _lookup(edgeId).WaitAsync(_lookupTimeout, _time);
            var now = _time.GetUtcNow();
            entry = lease.ExpiresAt > now
                ? new Entry(lease.ExpiresAt, true, null)
                : new Entry(now + UnknownGrace, false, null);
        }
        catch (Exception ex)
        {
            // The lease cannot be read (its silo just crashed and is not declared dead yet, or the call was lost): fail
            // open for a moment. Pushing to a dead edge costs a dropped one-way message; dropping a live edge's sessions
            // would cut its clients off.
            Log.LookupFailed(_logger, ex, edgeId);
            entry = new Entry(_time.GetUtcNow() + UnknownGrace, true, null);
        }

        _entries[edgeId] = entry;
        if (!entry.Alive)
        {
            _handles.TryRemove(edgeId, out _); // grains drop a dead edge: nothing needs its shared copy any more
        }

        refresh.SetResult(entry.Alive);
    }

    /// <summary>A lease as last known: <paramref name="Alive"/> until <paramref name="ValidUntil"/>, then looked up again.</summary>
    private sealed record Entry(DateTimeOffset ValidUntil, bool Alive, Task<bool>? Refresh);

    private sealed record EdgeHandle(string EdgeId, IEdgeObserver Observer);

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Debug, "Reading the lease of edge {EdgeId} failed or timed out; assuming it alive for now", EventName = "LeaseLookupFailed")]
        public static partial void LookupFailed(ILogger logger, Exception exception, string edgeId);
    }
}
