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
        }

        return alive;
    }

    private sealed record Entry(DateTimeOffset ExpiresAt, Task<bool>? Refresh);

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Debug, "Reading the lease of edge {EdgeId} failed; assuming it alive for now", EventName = "LeaseLookupFailed")]
        public static partial void LookupFailed(ILogger logger, Exception exception, string edgeId);
    }
}
