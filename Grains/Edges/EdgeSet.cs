using Microsoft.Extensions.Logging;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// The edges a grain pushes to (each with the edge-local session ids it serves, for client grains), with
/// lease checks: an edge whose lease lapsed is dropped before anything is pushed to it. Owned by one grain
/// activation, so not thread-safe by design.
/// </summary>
internal sealed partial class EdgeSet(EdgeLeaseCache leases, IEdgeSetOwner owner, ILogger logger)
{
    private readonly Dictionary<string, Entry> _edges = new(StringComparer.Ordinal);

    public int EdgeCount => _edges.Count;

    public IEnumerable<string> EdgeIds => _edges.Keys;

    public int SessionCount => _edges.Values.Sum(e => e.Sessions.Count);

    /// <summary>True when <paramref name="sessionId"/> of <paramref name="edgeId"/> is attached (a retried attach).</summary>
    public bool Contains(string edgeId, long sessionId) => _edges.TryGetValue(edgeId, out var entry) && entry.Sessions.Contains(sessionId);

    /// <summary>Adds (or refreshes the observer of) an edge; <paramref name="sessionId"/> is recorded when given.</summary>
    public void Add(string edgeId, IEdgeObserver observer, long? sessionId = null)
    {
        var known = _edges.TryGetValue(edgeId, out var entry);
        if (!known || !entry!.Observer.Equals(observer))
        {
            // New edge, or the edge re-created its observer after reconnecting to the cluster: push to the new one.
            entry = new Entry(observer, entry?.Sessions ?? []);
            _edges[edgeId] = entry;
            if (!known)
            {
                owner.EdgeAdded(edgeId);
            }
        }

        if (sessionId is { } id)
        {
            entry.Sessions.Add(id);
        }
    }

    /// <summary>Removes one session; the edge goes with its last session. True when the edge was removed.</summary>
    public bool RemoveSession(string edgeId, long sessionId) =>
        _edges.TryGetValue(edgeId, out var entry) && entry.Sessions.Remove(sessionId) && entry.Sessions.Count == 0 && RemoveEdge(edgeId);

    public bool RemoveEdge(string edgeId)
    {
        if (!_edges.Remove(edgeId))
        {
            return false;
        }

        owner.EdgeRemoved(edgeId);
        return true;
    }

    /// <summary>
    /// Calls <paramref name="push"/> for every edge whose lease is current; one failing edge never stops the others.
    /// True when edges whose lease lapsed were dropped.
    /// </summary>
    public async Task<bool> PushAsync<TArg>(Func<string, IEdgeObserver, TArg, Task> push, TArg arg, string grainKey)
    {
        List<string>? lapsed = null;
        foreach (var (edgeId, entry) in _edges)
        {
            try
            {
                if (!await leases.IsAliveAsync(edgeId))
                {
                    (lapsed ??= []).Add(edgeId);
                    continue;
                }

                // [OneWay] observer methods return once queued: a dead edge cannot block the grain.
                await push(edgeId, entry.Observer, arg);
            }
            catch (Exception ex)
            {
                Log.PushFailed(logger, ex, grainKey, edgeId);
            }
        }

        Remove(lapsed, grainKey);
        return lapsed is not null;
    }

    /// <summary>Drops edges whose lease lapsed. True when any was dropped.</summary>
    public async Task<bool> PruneAsync(string grainKey)
    {
        List<string>? lapsed = null;
        foreach (var edgeId in _edges.Keys)
        {
            if (!await leases.IsAliveAsync(edgeId))
            {
                (lapsed ??= []).Add(edgeId);
            }
        }

        Remove(lapsed, grainKey);
        return lapsed is not null;
    }

    public EdgeSessionsSnapshot[] ToSnapshot() =>
        _edges.Select(e => new EdgeSessionsSnapshot(e.Key, e.Value.Observer, [.. e.Value.Sessions])).ToArray();

    public void Restore(EdgeSessionsSnapshot[] snapshot)
    {
        foreach (var edge in snapshot)
        {
            _edges[edge.EdgeId] = new Entry(edge.Observer, [.. edge.SessionIds]);
            owner.EdgeAdded(edge.EdgeId);
        }
    }

    private void Remove(List<string>? lapsed, string grainKey)
    {
        if (lapsed is null)
        {
            return;
        }

        foreach (var edgeId in lapsed)
        {
            if (_edges.Remove(edgeId, out var entry))
            {
                owner.EdgeRemoved(edgeId);
                Log.EdgeLeaseLapsed(logger, grainKey, edgeId, entry.Sessions.Count);
            }
        }
    }

    private sealed record Entry(IEdgeObserver Observer, HashSet<long> Sessions);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Push from {GrainKey} to edge {EdgeId} failed", EventName = "PushFailed")]
        public static partial void PushFailed(ILogger logger, Exception exception, string grainKey, string edgeId);

        [LoggerMessage(2, LogLevel.Information, "Edge {EdgeId} lease lapsed: {GrainKey} dropped it ({Sessions} session(s))", EventName = "EdgeLeaseLapsed")]
        public static partial void EdgeLeaseLapsed(ILogger logger, string grainKey, string edgeId, int sessions);
    }
}

/// <summary>Told when an edge enters or leaves a grain's edge set (the silo's <see cref="EdgeSweeper"/> tracks them).</summary>
internal interface IEdgeSetOwner
{
    void EdgeAdded(string edgeId);

    void EdgeRemoved(string edgeId);
}

/// <summary>One edge and its sessions, as carried by grain migration.</summary>
[GenerateSerializer, Immutable, Alias("ogw.EdgeSessionsSnapshot")]
internal sealed record EdgeSessionsSnapshot(
    [property: Id(0)] string EdgeId,
    [property: Id(1)] IEdgeObserver Observer,
    [property: Id(2)] long[] SessionIds);
