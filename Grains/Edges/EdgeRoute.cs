using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// One edge as this silo knows it, in one place: the edge id and observer every grain of the silo shares, the edge's
/// lease as last known, the grains of this silo that push to it, and its push queue. Owned by the silo's
/// <see cref="EdgeDirectory"/>; grains hold a reference to it for each edge they push to.
/// </summary>
internal sealed partial class EdgeRoute
{
    /// <summary>How long an edge whose lease could not be read, or was found lapsed, is taken as known before asking again.</summary>
    private static readonly TimeSpan UnknownGrace = TimeSpan.FromSeconds(1);

    private readonly EdgeDirectory _directory;

    // grains of this silo pushing to the edge (value: true for a channel grain), for the dead-edge sweep.
    private readonly ConcurrentDictionary<GrainId, bool> _grains = new();
    private readonly Lock _trackGate = new();
    private bool _retired;
    private volatile IEdgeObserver _observer;

    // Replaced whole, never changed in place: a reader sees one consistent answer.
    private volatile LeaseState _lease = LeaseState.Unknown;

    public EdgeRoute(string edgeId, IEdgeObserver observer, EdgeDirectory directory)
    {
        EdgeId = edgeId;
        _observer = observer;
        _directory = directory;
        Pushes = new EdgePushQueue(this, directory.Metrics, directory.Logger);
    }

    // Every attach deserializes its own copy of the edge id and of the edge's observer reference (~150 B together);
    // a silo holds hundreds of thousands of idle grains attached through a handful of edges, so they share this one.
    public string EdgeId { get; }

    /// <summary>The edge's current observer: pushes queued before the edge replaced it go to the new one.</summary>
    public IEdgeObserver Observer => _observer;

    /// <summary>This edge's pushes: what the silo's grains push to it in the same instant leaves in one call.</summary>
    public EdgePushQueue Pushes { get; }

    public int TrackedCount => _grains.Count;

    /// <summary>The edge called with <paramref name="observer"/>: it is the one it serves now (it re-created it after reconnecting).</summary>
    public void Adopt(IEdgeObserver observer)
    {
        if (!_observer.Equals(observer))
        {
            _observer = observer;
        }
    }

    /// <summary>Records that <paramref name="grain"/> pushes to this edge. False once the sweep forgot this route.</summary>
    public bool Track(GrainId grain, bool isChannel)
    {
        lock (_trackGate)
        {
            if (_retired)
            {
                return false;
            }

            _grains[grain] = isChannel;
            return true;
        }
    }

    public void Untrack(GrainId grain) => _grains.TryRemove(grain, out _);

    public bool Tracks(GrainId grain) => _grains.ContainsKey(grain);

    public KeyValuePair<GrainId, bool>[] TrackedGrains() => _grains.ToArray();

    /// <summary>Marks the route forgotten when no grain pushes to it any more; later attaches get a new route.</summary>
    public bool TryRetire()
    {
        lock (_trackGate)
        {
            _retired = _grains.IsEmpty;
            return _retired;
        }
    }

    /// <summary>
    /// For pushes: answers at once and never waits for a lookup. When the known lease has run out it answers with the
    /// last known state (alive if never looked up) and refreshes in the background. A push is a one-way message on
    /// every grain's hot path: awaiting the lookup there made every grain of the silo pushing to that edge wait for
    /// it, and a lookup lost in a silo stop held them all for 30 s. Pushing once more to an edge that just died
    /// costs a dropped one-way message; the next push (or the sweep) sees the answer and drops the edge.
    /// </summary>
    public bool IsAlive()
    {
        var lease = _lease;
        if (lease.ValidUntil <= _directory.Time.GetUtcNow() && lease.Refresh is null)
        {
            _ = RefreshAsync();
        }

        return lease.Alive;
    }

    /// <summary>
    /// For pruning (attach, presence, the dead-edge sweep): waits for a current answer, at most the lookup timeout;
    /// a lookup that fails or times out answers alive (fail open) for a moment.
    /// </summary>
    public ValueTask<bool> IsAliveAsync()
    {
        var lease = _lease;
        if (lease.ValidUntil > _directory.Time.GetUtcNow())
        {
            return ValueTask.FromResult(lease.Alive);
        }

        return new ValueTask<bool>(lease.Refresh ?? RefreshAsync());
    }

    private Task<bool> RefreshAsync()
    {
        var refresh = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        while (true)
        {
            var current = _lease;
            if (current.Refresh is { } pending)
            {
                return pending; // another caller's lookup is already under way
            }

            if (Interlocked.CompareExchange(ref _lease, current with { Refresh = refresh.Task }, current) == current)
            {
                break;
            }
        }

        // The lookup serves every grain of the silo that pushes to this edge, not the message whose push happened to
        // find the lease stale: it must not join that message's trace (its span would hang off a call that already ended).
        var ambient = Activity.Current;
        Activity.Current = null;
        try
        {
            _ = LookupAsync(refresh);
        }
        finally
        {
            Activity.Current = ambient;
        }

        return refresh.Task;
    }

    private async Task LookupAsync(TaskCompletionSource<bool> refresh)
    {
        LeaseState lease;
        try
        {
            // The edge grain lives on a silo, never on an edge: this call cannot hang on a dead edge (but may be lost).
            var found = await _directory.Lookup(EdgeId).WaitAsync(_directory.LookupTimeout, _directory.Time);
            var now = _directory.Time.GetUtcNow();
            lease = found.ExpiresAt > now
                ? new LeaseState(found.ExpiresAt, true, null)
                : new LeaseState(now + UnknownGrace, false, null);
        }
        catch (Exception ex)
        {
            // The lease cannot be read (its silo just crashed and is not declared dead yet, or the call was lost): fail
            // open for a moment. Pushing to a dead edge costs a dropped one-way message; dropping a live edge's sessions
            // would cut its clients off.
            Log.LookupFailed(_directory.Logger, ex, EdgeId);
            lease = new LeaseState(_directory.Time.GetUtcNow() + UnknownGrace, true, null);
        }

        _lease = lease;
        refresh.SetResult(lease.Alive);
    }

    /// <summary>A lease as last known: <paramref name="Alive"/> until <paramref name="ValidUntil"/>, then looked up again.</summary>
    private sealed record LeaseState(DateTimeOffset ValidUntil, bool Alive, Task<bool>? Refresh)
    {
        /// <summary>Never looked up: alive until the first lookup says otherwise.</summary>
        public static readonly LeaseState Unknown = new(DateTimeOffset.MinValue, true, null);
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Debug, "Reading the lease of edge {EdgeId} failed or timed out; assuming it alive for now", EventName = "LeaseLookupFailed")]
        public static partial void LookupFailed(ILogger logger, Exception exception, string edgeId);
    }
}
