using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// This silo's one owner of "which edges do its grains push to": an <see cref="EdgeRoute"/> per edge (shared id and
/// observer, lease as last known, tracked grains, push queue), and the grains due a re-push at the next sweep. Grains
/// keep only their sessions per route (<see cref="EdgeSessions"/>); the <see cref="EdgeSweeper"/> walks the routes.
/// A lease is read from the edge grain only when the silo's copy has lapsed: one call per edge per lease period per
/// silo, not one per grain.
/// </summary>
internal sealed partial class EdgeDirectory
{
    /// <summary>
    /// How long a lease lookup may take before it counts as failed. A lookup is a call to the edge grain, and a call
    /// whose message a stopping silo lost is answered only by Orleans' 30 s response timeout.
    /// </summary>
    public static readonly TimeSpan DefaultLookupTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, EdgeRoute> _routes = new(StringComparer.Ordinal);

    // grains that pushed since the last sweep (value: true for a channel grain): each pushes its newest message again.
    private readonly ConcurrentDictionary<GrainId, bool> _repush = new();

    public EdgeDirectory(IGrainFactory grains, GrainMetrics metrics, TimeProvider time, ILogger<EdgeDirectory> logger)
        : this(edgeId => grains.GetGrain<IEdgeGrain>(edgeId).GetLeaseAsync(), metrics, time, logger, DefaultLookupTimeout)
    {
    }

    internal EdgeDirectory(Func<string, Task<EdgeLease>> lookup, GrainMetrics metrics, TimeProvider time, ILogger logger, TimeSpan lookupTimeout)
    {
        Lookup = lookup;
        Metrics = metrics;
        Time = time;
        Logger = logger;
        LookupTimeout = lookupTimeout;
    }

    internal Func<string, Task<EdgeLease>> Lookup { get; }

    internal GrainMetrics Metrics { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal TimeSpan LookupTimeout { get; }

    /// <summary>Every edge this silo knows, for the sweep.</summary>
    public ICollection<EdgeRoute> Routes => _routes.Values;

    /// <summary>
    /// The route to <paramref name="edgeId"/>, with <paramref name="grain"/> tracked on it. With
    /// <paramref name="adopt"/> (the edge itself is calling) <paramref name="observer"/> becomes the route's observer;
    /// otherwise (a migrated snapshot) it is used only for a route this silo did not know.
    /// </summary>
    public EdgeRoute Track(string edgeId, IEdgeObserver observer, bool adopt, ITrackedGrain grain)
    {
        while (true)
        {
            var route = _routes.GetOrAdd(edgeId, static (id, arg) => new EdgeRoute(id, arg.observer, arg.directory), (observer, directory: this));
            if (route.Track(grain.GrainId, grain.IsChannel))
            {
                if (adopt)
                {
                    route.Adopt(observer);
                }

                return route;
            }

            // The sweep forgot this route between the two lines: it removes it, and the next turn creates a new one.
            _routes.TryRemove(new KeyValuePair<string, EdgeRoute>(edgeId, route));
        }
    }

    /// <summary>True when <paramref name="grain"/> is known here to push to some edge.</summary>
    public bool Tracks(GrainId grain)
    {
        foreach (var route in _routes.Values)
        {
            if (route.Tracks(grain))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Forgets a dead edge no grain pushes to any more (what is still queued for it is sent first).</summary>
    public bool TryForget(EdgeRoute route) =>
        route.TryRetire() && _routes.TryRemove(new KeyValuePair<string, EdgeRoute>(route.EdgeId, route));

    public void RepushLater(GrainId grain, bool isChannel) => _repush[grain] = isChannel;

    public void CancelRepush(GrainId grain) => _repush.TryRemove(grain, out _);

    /// <summary>The grains due a re-push, removed from the set: pushing again asks for a new one.</summary>
    public KeyValuePair<GrainId, bool>[] TakeRepushes()
    {
        var due = _repush.ToArray();
        foreach (var entry in due)
        {
            _repush.TryRemove(entry);
        }

        return due;
    }

    /// <summary>
    /// Queues the answer to a one-way <c>send</c> on the push to <paramref name="edgeId"/>. A sender's edge usually
    /// has a route here already (its clients' grains push through it); when not, the route is made from the edge's
    /// lease (one lookup per edge per silo, then kept like any route: the sweep forgets it once the edge is dead).
    /// An answer that cannot be routed is dropped: the edge times the send out and answers <c>err unavailable</c>.
    /// </summary>
    public void Acknowledge(string edgeId, SendAck ack)
    {
        if (_routes.TryGetValue(edgeId, out var route))
        {
            route.Pushes.Enqueue(ack);
        }
        else
        {
            // Off the grain's trace, as EdgeRoute's lookups: the lookup serves the route, not this one message.
            var ambient = Activity.Current;
            Activity.Current = null;
            try
            {
                _ = AcknowledgeUnroutedAsync(edgeId, ack);
            }
            finally
            {
                Activity.Current = ambient;
            }
        }
    }

    private async Task AcknowledgeUnroutedAsync(string edgeId, SendAck ack)
    {
        EdgeLease lease;
        try
        {
            // Off the grain's turn: the answer never waits inside the grain.
            lease = await Lookup(edgeId).WaitAsync(LookupTimeout, Time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.AckUnrouted(Logger, ex, edgeId);
            return;
        }

        if (lease.Observer is not { } observer)
        {
            Log.AckUnrouted(Logger, null, edgeId);
            return;
        }

        _routes.GetOrAdd(edgeId, static (id, arg) => new EdgeRoute(id, arg.observer, arg.directory), (observer, directory: this))
            .Pushes.Enqueue(ack);
    }

    internal void SendFailed(Exception exception, string from, string to) => Log.SendFailed(Logger, exception, from, to);

    internal void EdgeLapsed(GrainId grain, string edgeId, int sessions) => Log.EdgeLeaseLapsed(Logger, grain, edgeId, sessions);

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Information, "Edge {EdgeId} lease lapsed: {Grain} dropped it ({Sessions} session(s))", EventName = "EdgeLeaseLapsed")]
        public static partial void EdgeLeaseLapsed(ILogger logger, GrainId grain, string edgeId, int sessions);

        [LoggerMessage(3, LogLevel.Warning, "The answer to a send could not be routed to edge {EdgeId} (no lease or lookup failed); the edge will time the send out", EventName = "SendAckUnrouted")]
        public static partial void AckUnrouted(ILogger logger, Exception? exception, string edgeId);

        [LoggerMessage(4, LogLevel.Warning, "A send from {From} to {To} failed in its grain; the sender is told unavailable", EventName = "SendFailed")]
        public static partial void SendFailed(ILogger logger, Exception exception, string from, string to);
    }
}

/// <summary>A grain as the silo's dead-edge sweep tracks it, to call it when one of its edges dies.</summary>
internal interface ITrackedGrain
{
    GrainId GrainId { get; }

    /// <summary>True for a channel grain (poked through <see cref="IChannelSubscriptionGrain"/>), false for a client grain.</summary>
    bool IsChannel { get; }
}
