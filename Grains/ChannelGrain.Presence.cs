using OrleansGateway.Grains.Members;

namespace OrleansGateway.Grains;

/// <summary>
/// Presence: who is in the channel (per client id, from the edges' batched <see cref="MemberReport"/>s), and the
/// joins and leaves pushed to its edges (each hands them to its watching sessions), through the same per-edge push queue as publications, so an
/// edge sees them in the order the grain made them. Members travel with the grain on a graceful silo stop.
/// </summary>
/// <remarks>
/// A timer runs only while the channel has members or watchers (every <see cref="PresenceOptions.CheckInterval"/>):
/// it sends leaves whose debounce ran out and drops the members of edges whose lease lapsed. The silo's
/// <see cref="Edges.EdgeSweeper"/> alone would take its sweep interval (a minute by default) to notice a dead edge.
/// </remarks>
internal sealed partial class ChannelGrain
{
    private const string MembersMigrationKey = "members";

    private ChannelPresence? _members;
    private IGrainTimer? _presenceTimer;
    private bool _edgesLapsed;

    private ChannelPresence MemberList => _members ??= new ChannelPresence(_presenceOptions.LeaveDebounce, _time);

    public Task<bool> ReportMembersAsync(string edgeId, IEdgeObserver edge, MemberReport report)
    {
        if (!Edges.HasEdge(edgeId))
        {
            // Stale (the edge unsubscribed since) or this activation lost the edge: the edge re-subscribes and then
            // reports everything again.
            return Task.FromResult(false);
        }

        PushPresence(MemberList.Apply(edgeId, report));
        PresenceChanged();
        return Task.FromResult(true);
    }

    public Task<ChannelMembers> GetMembersAsync(string? after, int limit)
    {
        var page = Math.Clamp(limit, 1, _presenceOptions.MaxPageSize);
        return Task.FromResult(_members?.Page(after, page) ?? new ChannelMembers(0, [], null));
    }

    public Task<ChannelMemberStats> GetMemberStatsAsync() =>
        Task.FromResult(new ChannelMemberStats(_members?.Clients ?? 0, _members?.Sessions ?? 0));

    protected override void Dehydrate(IDehydrationContext dehydrationContext)
    {
        if (_members is { IsEmpty: false } members)
        {
            dehydrationContext.TryAddValue(MembersMigrationKey, members.ToSnapshot());
        }
    }

    protected override void Rehydrate(IRehydrationContext rehydrationContext)
    {
        if (rehydrationContext.TryGetValue(MembersMigrationKey, out ChannelPresenceSnapshot? snapshot) && snapshot is not null)
        {
            MemberList.Restore(snapshot);
            PresenceChanged();
        }
    }

    /// <summary>The edge unsubscribed (its last local subscriber left): its members leave after the debounce.</summary>
    private void EdgeLeft(string edgeId)
    {
        if (_members is { } members)
        {
            PushPresence(members.DropEdge(edgeId, debounce: true));
            PresenceChanged();
        }
    }

    /// <summary>
    /// Edges whose lease lapsed were dropped: their members leave at once (their clients have had a lease TTL to
    /// reconnect elsewhere, and those that did are still members through their new edge).
    /// </summary>
    private void EdgesDropped()
    {
        if (_members is not { } members)
        {
            return;
        }

        foreach (var edgeId in members.Edges())
        {
            if (!Edges.HasEdge(edgeId))
            {
                PushPresence(members.DropEdge(edgeId, debounce: false));
            }
        }

        PresenceChanged();
    }

    /// <summary>
    /// To every subscribed edge, not only those that reported watchers: an edge learns of its first watcher only at its
    /// next report, and a join made meanwhile would be lost for that watcher. Each edge keeps what its watchers asked for.
    /// </summary>
    private void PushPresence(List<PresenceChange> changes)
    {
        if (changes.Count > 0 && Edges.Push(ChannelBatch.OfPresence(Channel, [.. changes])))
        {
            Pushed(true);
            _edgesLapsed = true; // their members leave at the next check
        }
    }

    /// <summary>Starts the presence timer when there is something to watch, stops it when there is nothing.</summary>
    private void PresenceChanged()
    {
        if (_members is null or { IsEmpty: true })
        {
            _presenceTimer?.Dispose();
            _presenceTimer = null;
        }
        else
        {
            _presenceTimer ??= this.RegisterGrainTimer(
                CheckPresenceAsync,
                new GrainTimerCreationOptions(_presenceOptions.CheckInterval, _presenceOptions.CheckInterval) { Interleave = false });
        }
    }

    private async Task CheckPresenceAsync(CancellationToken cancellationToken)
    {
        if (await PruneAsync() | _edgesLapsed)
        {
            _edgesLapsed = false;
            EdgesDropped();
        }

        if (_members is { } members)
        {
            PushPresence(members.TakeDueLeaves());
        }

        PresenceChanged();
    }
}
