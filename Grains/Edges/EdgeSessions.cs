namespace OrleansGateway.Grains.Edges;

/// <summary>
/// What one grain keeps of the edges it pushes to: the silo's <see cref="EdgeRoute"/> of each, and the edge-local
/// session ids attached through it (client grains; a channel grain has none). Everything else about an edge (its
/// lease, its push queue, which grains use it) is the silo's <see cref="EdgeDirectory"/>'s. Owned by one grain
/// activation, so not thread-safe by design.
/// </summary>
internal sealed class EdgeSessions(EdgeDirectory directory, ITrackedGrain grain)
{
    // A silo holds hundreds of thousands of idle grains, nearly all with one edge and one session: a copy-on-write
    // array searched linearly costs far less than a Dictionary of HashSets. Arrays are never changed in place, so a
    // push iterating one sees a consistent set.
    private Attachment[] _edges = [];

    public int EdgeCount => _edges.Length;

    /// <summary>
    /// Told the edge id and session ids of each edge dropped because its lease lapsed (a client grain's <c>edge_lost</c>
    /// events); null when nobody listens, the default.
    /// </summary>
    public Action<string, long[]>? Lapsed { get; set; }

    public int SessionCount
    {
        get
        {
            var count = 0;
            foreach (var edge in _edges)
            {
                count += edge.Sessions.Length;
            }

            return count;
        }
    }

    /// <summary>True when <paramref name="sessionId"/> of <paramref name="edgeId"/> is attached (a retried attach).</summary>
    public bool Contains(string edgeId, long sessionId) => Find(edgeId) is { } edge && Array.IndexOf(edge.Sessions, sessionId) >= 0;

    /// <summary>True when <paramref name="edgeId"/> is attached.</summary>
    public bool HasEdge(string edgeId) => Find(edgeId) is not null;

    /// <summary>Adds an edge calling with <paramref name="observer"/>; <paramref name="sessionId"/> is recorded when given.</summary>
    public void Add(string edgeId, IEdgeObserver observer, long? sessionId = null)
    {
        if (Find(edgeId) is not { } edge)
        {
            var route = directory.Track(edgeId, observer, adopt: true, grain);
            _edges = [.. _edges, new Attachment(route, sessionId is { } first ? [first] : [])];
            return;
        }

        // The edge re-created its observer after reconnecting to the cluster: the silo pushes to the new one.
        edge.Route.Adopt(observer);
        if (sessionId is { } id && Array.IndexOf(edge.Sessions, id) < 0)
        {
            edge.Sessions = [.. edge.Sessions, id];
        }
    }

    /// <summary>Removes one session; the edge goes with its last session. True when the edge was removed.</summary>
    public bool RemoveSession(string edgeId, long sessionId)
    {
        var edge = Find(edgeId);
        var index = edge is null ? -1 : Array.IndexOf(edge.Sessions, sessionId);
        if (index < 0)
        {
            return false;
        }

        edge!.Sessions = Without(edge.Sessions, index);
        return edge.Sessions.Length == 0 && RemoveEdge(edgeId);
    }

    public bool RemoveEdge(string edgeId)
    {
        for (var i = 0; i < _edges.Length; i++)
        {
            if (string.Equals(_edges[i].Route.EdgeId, edgeId, StringComparison.Ordinal))
            {
                _edges[i].Route.Untrack(grain.GrainId);
                _edges = Without(_edges, i);
                return true;
            }
        }

        return false;
    }

    /// <summary>This activation no longer pushes from this silo (it deactivates, or migrates and re-tracks there).</summary>
    public void UntrackAll()
    {
        foreach (var edge in _edges)
        {
            edge.Route.Untrack(grain.GrainId);
        }
    }

    /// <summary>Queues <paramref name="batch"/> to every edge whose lease is current. True when lapsed edges were dropped.</summary>
    public bool Push(MailboxBatch batch) => Push(batch, null);

    /// <inheritdoc cref="Push(MailboxBatch)"/>
    public bool Push(ChannelBatch batch) => Push(batch, null);

    /// <summary>Queues a disconnect of <paramref name="clientId"/> to every edge whose lease is current, behind its messages.</summary>
    public bool PushDisconnect(string clientId, string code) => Push(clientId, code);

    /// <summary>Queues the answer to a one-way <c>send</c> on the push to the sender's edge (see <see cref="EdgeDirectory.Acknowledge"/>).</summary>
    public void Acknowledge(string edgeId, SendAck ack) => directory.Acknowledge(edgeId, ack);

    /// <summary>A one-way <c>send</c> failed in the grain: logged here, as no caller sees the exception.</summary>
    public void SendFailed(Exception exception, string from, string to) => directory.SendFailed(exception, from, to);

    /// <summary>Drops edges whose lease lapsed, waiting for a current answer. True when any was dropped.</summary>
    public async Task<bool> PruneAsync()
    {
        List<EdgeRoute>? lapsed = null;
        foreach (var edge in _edges)
        {
            if (!await edge.Route.IsAliveAsync())
            {
                (lapsed ??= []).Add(edge.Route);
            }
        }

        return Drop(lapsed);
    }

    // Session arrays are replaced, never changed, so the snapshot may share them.
    public EdgeSessionsSnapshot[] ToSnapshot() =>
        Array.ConvertAll(_edges, e => new EdgeSessionsSnapshot(e.Route.EdgeId, e.Route.Observer, e.Sessions));

    public void Restore(EdgeSessionsSnapshot[] snapshot)
    {
        foreach (var edge in snapshot)
        {
            RemoveEdge(edge.EdgeId);
            var route = directory.Track(edge.EdgeId, edge.Observer, adopt: false, grain);
            _edges = [.. _edges, new Attachment(route, edge.SessionIds)];
        }
    }

    private bool Push(object payload, string? disconnectCode)
    {
        List<EdgeRoute>? lapsed = null;
        foreach (var edge in _edges)
        {
            // Never waits for a lease lookup (see EdgeRoute.IsAlive): this runs for every message.
            if (!edge.Route.IsAlive())
            {
                (lapsed ??= []).Add(edge.Route);
            }
            else if (disconnectCode is not null)
            {
                edge.Route.Pushes.EnqueueDisconnect((string)payload, disconnectCode);
            }
            else if (payload is MailboxBatch mailbox)
            {
                edge.Route.Pushes.Enqueue(mailbox);
            }
            else
            {
                edge.Route.Pushes.Enqueue((ChannelBatch)payload);
            }
        }

        return Drop(lapsed);
    }

    private bool Drop(List<EdgeRoute>? lapsed)
    {
        if (lapsed is null)
        {
            return false;
        }

        foreach (var route in lapsed)
        {
            var sessions = Find(route.EdgeId)?.Sessions ?? [];
            if (RemoveEdge(route.EdgeId))
            {
                directory.EdgeLapsed(grain.GrainId, route.EdgeId, sessions.Length);
                Lapsed?.Invoke(route.EdgeId, sessions);
            }
        }

        return true;
    }

    private Attachment? Find(string edgeId)
    {
        foreach (var edge in _edges)
        {
            if (string.Equals(edge.Route.EdgeId, edgeId, StringComparison.Ordinal))
            {
                return edge;
            }
        }

        return null;
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

    /// <summary>One edge of the grain: mutable so a session change does not re-create it.</summary>
    private sealed class Attachment(EdgeRoute route, long[] sessions)
    {
        public EdgeRoute Route { get; } = route;

        public long[] Sessions { get; set; } = sessions;
    }
}

/// <summary>One edge and its sessions, as carried by grain migration (the wire shape of earlier releases: keep it).</summary>
[GenerateSerializer, Immutable, Alias("ogw.EdgeSessionsSnapshot")]
internal sealed record EdgeSessionsSnapshot(
    [property: Id(0)] string EdgeId,
    [property: Id(1)] IEdgeObserver Observer,
    [property: Id(2)] long[] SessionIds);
