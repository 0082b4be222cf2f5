using OrleansGateway.Grains.Events;

namespace OrleansGateway.Grains;

/// <summary>
/// The client's lifecycle events (docs/events.md). Produced here, not on edges: this grain is the one place that sees
/// every session of the client, across edges, one call at a time, so its events are in the order it applied them
/// (a fast reconnect may attach before the old session's detach arrives: both are then reported as they happened), and it alone
/// notices an edge that died without saying so (<c>edge_lost</c>). They are handed to the broker one after the other
/// and never awaited by the call that caused them: an attach returns its welcome without waiting for any broker.
/// </summary>
internal sealed partial class ClientGrain
{
    private readonly LifecycleEventEmitter _events;

    // The last event handed to the broker (null: none yet), so the next goes out only after it: per-client order on
    // the stream or partition. Continuations run on this activation's scheduler, so the count needs no lock.
    private Task? _eventsTail;
    private int _eventsPending;

    public Task ChannelChangedAsync(string edgeId, long sessionId, string channel, bool subscribed)
    {
        var kind = subscribed ? LifecycleEventKinds.Subscribed : LifecycleEventKinds.Unsubscribed;
        if (_events.Produces(kind))
        {
            Emit(NewEvent(kind, edgeId, sessionId) with { Channel = channel });
        }

        return Task.CompletedTask;
    }

    private void Connected(string edgeId, long sessionId, bool resumed, bool recovered)
    {
        if (_events.Produces(LifecycleEventKinds.Connected))
        {
            Emit(NewEvent(LifecycleEventKinds.Connected, edgeId, sessionId) with { Resumed = resumed, Recovered = recovered });
        }
    }

    private void Disconnected(string edgeId, long sessionId, string reason, int? code)
    {
        if (_events.Produces(LifecycleEventKinds.Disconnected))
        {
            Emit(NewEvent(LifecycleEventKinds.Disconnected, edgeId, sessionId) with { Reason = reason, Code = code });
        }
    }

    /// <summary>The sessions of an edge whose lease lapsed, dropped by a prune (set as <see cref="Edges.EdgeSessions.Lapsed"/>).</summary>
    private void EdgeLost(string edgeId, long[] sessions)
    {
        foreach (var session in sessions)
        {
            Disconnected(edgeId, session, LifecycleEventReasons.EdgeLost, null);
        }
    }

    private LifecycleEvent NewEvent(LifecycleEventKinds kind, string edgeId, long sessionId) => new(kind, ClientId, edgeId, sessionId, NowUnixMs);

    private void Emit(LifecycleEvent e)
    {
        if (_eventsPending >= _events.MaxPendingPerClient)
        {
            _events.Dropped(e);
            return;
        }

        _eventsPending++;
        _eventsTail = PublishAfterAsync(_eventsTail, e);
    }

    private async Task PublishAfterAsync(Task? previous, LifecycleEvent e)
    {
        if (previous is not null)
        {
            await previous; // never throws: LifecycleEventEmitter.PublishAsync does not
        }

        await _events.PublishAsync(e);
        _eventsPending--;
    }
}
