using Microsoft.Extensions.Logging;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// The edges a grain pushes to (each with the edge-local session ids it serves, for client grains), with
/// lease checks: an edge whose lease lapsed is dropped before anything is pushed to it. Owned by one grain
/// activation, so not thread-safe by design.
/// </summary>
internal sealed partial class EdgeSet(EdgeLeaseCache leases, IEdgeSetOwner owner, ILogger logger)
{
    // A silo holds hundreds of thousands of idle grains, nearly all with one edge and one session: a copy-on-write
    // array searched linearly costs ~100 B per grain where a Dictionary of HashSets cost ~400 B (issue #7). Arrays
    // are never changed in place, so a push iterating one across an await sees a consistent set.
    private Entry[] _edges = [];

    public int EdgeCount => _edges.Length;

    public IEnumerable<string> EdgeIds
    {
        get
        {
            foreach (var entry in _edges)
            {
                yield return entry.EdgeId;
            }
        }
    }

    public int SessionCount
    {
        get
        {
            var count = 0;
            foreach (var entry in _edges)
            {
                count += entry.Sessions.Length;
            }

            return count;
        }
    }

    /// <summary>True when <paramref name="sessionId"/> of <paramref name="edgeId"/> is attached (a retried attach).</summary>
    public bool Contains(string edgeId, long sessionId) => Find(edgeId) is { } entry && Array.IndexOf(entry.Sessions, sessionId) >= 0;

    /// <summary>Adds (or refreshes the observer of) an edge; <paramref name="sessionId"/> is recorded when given.</summary>
    public void Add(string edgeId, IEdgeObserver observer, long? sessionId = null)
    {
        var entry = Find(edgeId);
        if (entry is null)
        {
            (edgeId, observer) = leases.Share(edgeId, observer);
            _edges = [.. _edges, new Entry(edgeId, observer, sessionId is { } first ? [first] : [])];
            owner.EdgeAdded(edgeId);
            return;
        }

        if (!entry.Observer.Equals(observer))
        {
            // The edge re-created its observer after reconnecting to the cluster: push to the new one.
            entry.Observer = leases.Share(edgeId, observer).Observer;
        }

        if (sessionId is { } id && Array.IndexOf(entry.Sessions, id) < 0)
        {
            entry.Sessions = [.. entry.Sessions, id];
        }
    }

    /// <summary>Removes one session; the edge goes with its last session. True when the edge was removed.</summary>
    public bool RemoveSession(string edgeId, long sessionId)
    {
        var entry = Find(edgeId);
        var index = entry is null ? -1 : Array.IndexOf(entry.Sessions, sessionId);
        if (index < 0)
        {
            return false;
        }

        entry!.Sessions = Without(entry.Sessions, index);
        return entry.Sessions.Length == 0 && RemoveEdge(edgeId);
    }

    public bool RemoveEdge(string edgeId) => RemoveEdge(edgeId, out _);

    /// <summary>
    /// Calls <paramref name="push"/> for every edge whose lease is current; one failing edge never stops the others.
    /// True when edges whose lease lapsed were dropped.
    /// </summary>
    public async Task<bool> PushAsync<TArg>(Func<string, IEdgeObserver, TArg, Task> push, TArg arg, string grainKey)
    {
        List<string>? lapsed = null;
        foreach (var entry in _edges)
        {
            try
            {
                // Never waits for a lease lookup (see IsAlive): this runs for every message.
                if (!leases.IsAlive(entry.EdgeId))
                {
                    (lapsed ??= []).Add(entry.EdgeId);
                    continue;
                }

                // [OneWay] observer methods return once queued: a dead edge cannot block the grain.
                await push(entry.EdgeId, entry.Observer, arg);
            }
            catch (Exception ex)
            {
                Log.PushFailed(logger, ex, grainKey, entry.EdgeId);
            }
        }

        Remove(lapsed, grainKey);
        return lapsed is not null;
    }

    /// <summary>Drops edges whose lease lapsed. True when any was dropped.</summary>
    public async Task<bool> PruneAsync(string grainKey)
    {
        List<string>? lapsed = null;
        foreach (var entry in _edges)
        {
            if (!await leases.IsAliveAsync(entry.EdgeId))
            {
                (lapsed ??= []).Add(entry.EdgeId);
            }
        }

        Remove(lapsed, grainKey);
        return lapsed is not null;
    }

    // Session arrays are replaced, never changed, so the snapshot may share them.
    public EdgeSessionsSnapshot[] ToSnapshot() =>
        Array.ConvertAll(_edges, e => new EdgeSessionsSnapshot(e.EdgeId, e.Observer, e.Sessions));

    public void Restore(EdgeSessionsSnapshot[] snapshot)
    {
        foreach (var edge in snapshot)
        {
            RemoveEdge(edge.EdgeId, out _);
            var (edgeId, observer) = leases.Share(edge.EdgeId, edge.Observer);
            _edges = [.. _edges, new Entry(edgeId, observer, edge.SessionIds)];
            owner.EdgeAdded(edgeId);
        }
    }

    private Entry? Find(string edgeId)
    {
        foreach (var entry in _edges)
        {
            if (string.Equals(entry.EdgeId, edgeId, StringComparison.Ordinal))
            {
                return entry;
            }
        }

        return null;
    }

    private bool RemoveEdge(string edgeId, out Entry? removed)
    {
        removed = null;
        for (var i = 0; i < _edges.Length; i++)
        {
            if (string.Equals(_edges[i].EdgeId, edgeId, StringComparison.Ordinal))
            {
                removed = _edges[i];
                _edges = Without(_edges, i);
                owner.EdgeRemoved(removed.EdgeId);
                return true;
            }
        }

        return false;
    }

    private static T[] Without<T>(T[] items, int index)
    {
        if (items.Length == 1)
        {
            return [];
        }

        var kept = new T[items.Length - 1];
        Array.Copy(items, kept, index);
        Array.Copy(items, index + 1, kept, index, items.Length - index - 1);
        return kept;
    }

    private void Remove(List<string>? lapsed, string grainKey)
    {
        if (lapsed is null)
        {
            return;
        }

        foreach (var edgeId in lapsed)
        {
            if (RemoveEdge(edgeId, out var entry))
            {
                Log.EdgeLeaseLapsed(logger, grainKey, edgeId, entry!.Sessions.Length);
            }
        }
    }

    /// <summary>One edge: mutable so a refreshed observer or a session change does not re-create it.</summary>
    private sealed class Entry(string edgeId, IEdgeObserver observer, long[] sessions)
    {
        public string EdgeId { get; } = edgeId;

        public IEdgeObserver Observer { get; set; } = observer;

        public long[] Sessions { get; set; } = sessions;
    }

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
