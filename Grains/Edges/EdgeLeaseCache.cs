using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// Per-silo cache of edge leases. Every client grain on a silo asks it whether an edge is alive; it asks the
/// edge grain only when its copy has lapsed, so the cost is one call per edge per lease period per silo,
/// not one per client grain.
/// </summary>
internal sealed partial class EdgeLeaseCache(IGrainFactory grains, TimeProvider time, ILogger<EdgeLeaseCache> logger)
{
    /// <summary>How long an edge whose lease could not be read is assumed alive before asking again.</summary>
    private static readonly TimeSpan UnknownGrace = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    // Every attach deserializes its own copy of the edge id and of the edge's observer reference (~150 B together);
    // a silo holds hundreds of thousands of idle grains attached through a handful of edges, so they share one copy.
    private readonly ConcurrentDictionary<string, EdgeHandle> _handles = new(StringComparer.Ordinal);

    /// <summary>
    /// The silo's shared copy of <paramref name="edgeId"/> and <paramref name="observer"/> (equal to the arguments):
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

    public ValueTask<bool> IsAliveAsync(string edgeId)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(edgeId, out var entry))
        {
            if (entry.ExpiresAt > now)
            {
                return ValueTask.FromResult(true);
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
        var refresh = FetchAsync(edgeId);
        _entries.AddOrUpdate(
            edgeId,
            static (_, r) => new Entry(DateTimeOffset.MinValue, r),
            static (_, old, r) => old with { Refresh = r },
            refresh);
        return refresh;
    }

    private async Task<bool> FetchAsync(string edgeId)
    {
        EdgeLease lease;
        try
        {
            // The edge grain lives on a silo, never on an edge: this call cannot hang on a dead edge.
            lease = await grains.GetGrain<IEdgeGrain>(edgeId).GetLeaseAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The lease cannot be read (its silo just crashed and is not declared dead yet): fail open for a
            // moment. Pushing to a dead edge costs a dropped one-way message; dropping a live edge's sessions
            // would cut its clients off.
            Log.LookupFailed(logger, ex, edgeId);
            _entries[edgeId] = new Entry(time.GetUtcNow() + UnknownGrace, null);
            return true;
        }

        var alive = lease.ExpiresAt > time.GetUtcNow();
        if (alive)
        {
            _entries[edgeId] = new Entry(lease.ExpiresAt, null);
        }
        else
        {
            _entries.TryRemove(edgeId, out _);
            _handles.TryRemove(edgeId, out _); // grains drop a dead edge: nothing needs its shared copy any more
        }

        return alive;
    }

    private sealed record Entry(DateTimeOffset ExpiresAt, Task<bool>? Refresh);

    private sealed record EdgeHandle(string EdgeId, IEdgeObserver Observer);

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Debug, "Reading the lease of edge {EdgeId} failed; assuming it alive for now", EventName = "LeaseLookupFailed")]
        public static partial void LookupFailed(ILogger logger, Exception exception, string edgeId);
    }
}
