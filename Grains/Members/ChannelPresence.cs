namespace OrleansGateway.Grains.Members;

/// <summary>
/// Who is in one channel: per client id, the sessions that follow it through each edge, as the edges report them
/// (<see cref="MemberReport"/>). A client is a member while it has a session on any edge; a second tab is not a second
/// join. When its last session goes, the leave waits <c>leaveDebounce</c>: a client moved by an edge drain rejoins
/// through another edge meanwhile, and others see neither a leave nor a join. Owned by one grain activation, so not
/// thread-safe by design; pure (time from <see cref="TimeProvider"/>), tested without Orleans.
/// </summary>
internal sealed class ChannelPresence(TimeSpan leaveDebounce, TimeProvider time)
{
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly HashSet<string> _watching = new(StringComparer.Ordinal);

    // Member ids in ordinal order for paging, rebuilt on the first page after a join or leave: pages are asked for
    // far less often than members change, and a sorted structure would cost every member more memory.
    private string[]? _sorted;
    private int _leaving;

    /// <summary>Members (clients), including those whose leave is pending.</summary>
    public int Clients => _members.Count;

    /// <summary>Sessions of all members on all edges.</summary>
    public int Sessions { get; private set; }

    /// <summary>Edges with a local session watching presence: joins and leaves are pushed to them only.</summary>
    public IReadOnlySet<string> Watching => _watching;

    /// <summary>True while there is anything to keep (members, pending leaves, watching edges).</summary>
    public bool IsEmpty => _members.Count == 0 && _watching.Count == 0;

    /// <summary>True while a member's leave waits for its debounce.</summary>
    public bool HasPendingLeaves => _leaving > 0;

    /// <summary>Applies one edge's report; returns the clients that joined (first session anywhere).</summary>
    public List<PresenceChange> Apply(string edgeId, MemberReport report)
    {
        var changes = new List<PresenceChange>();
        if (report.Watching)
        {
            _watching.Add(edgeId);
        }
        else
        {
            _watching.Remove(edgeId);
        }

        if (report.Full)
        {
            // Members of this edge missing from a full report are gone from it.
            HashSet<string> reported = new(report.Counts.Select(c => c.ClientId), StringComparer.Ordinal);
            foreach (var (clientId, member) in _members)
            {
                if (!reported.Contains(clientId) && member.SessionsOn(edgeId) > 0)
                {
                    Set(member, edgeId, 0, debounce: true);
                }
            }
        }

        foreach (var count in report.Counts)
        {
            if (_members.TryGetValue(count.ClientId, out var member))
            {
                Set(member, edgeId, Math.Max(0, count.Sessions), debounce: true);
            }
            else if (count.Sessions > 0)
            {
                member = new Member();
                _members.Add(count.ClientId, member);
                _sorted = null;
                Set(member, edgeId, count.Sessions, debounce: true);
                changes.Add(new PresenceChange(count.ClientId, Joined: true));
            }
        }

        return changes;
    }

    /// <summary>
    /// The edge is gone (it unsubscribed its last local session, or its lease lapsed: <paramref name="debounce"/>
    /// false, as its clients have had a lease TTL to reconnect elsewhere). Returns the clients that left at once.
    /// </summary>
    public List<PresenceChange> DropEdge(string edgeId, bool debounce)
    {
        _watching.Remove(edgeId);
        var changes = new List<PresenceChange>();
        foreach (var (clientId, member) in _members)
        {
            if (member.SessionsOn(edgeId) > 0)
            {
                Set(member, edgeId, 0, debounce);
            }
        }

        if (!debounce)
        {
            changes.AddRange(TakeLeaves(1)); // those just marked (see Set)
        }

        return changes;
    }

    /// <summary>Edges with members or watching (to check their leases).</summary>
    public HashSet<string> Edges()
    {
        var edges = new HashSet<string>(_watching, StringComparer.Ordinal);
        foreach (var member in _members.Values)
        {
            foreach (var (edge, _) in member.PerEdge)
            {
                edges.Add(edge);
            }
        }

        return edges;
    }

    /// <summary>Members whose debounce ran out: they leave now.</summary>
    public List<PresenceChange> TakeDueLeaves() => _leaving == 0 ? [] : TakeLeaves(time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>A page of members ordered by client id, after <paramref name="after"/>.</summary>
    public ChannelMembers Page(string? after, int limit)
    {
        _sorted ??= [.. _members.Keys.Order(StringComparer.Ordinal)];
        var start = 0;
        if (after is not null)
        {
            start = Array.BinarySearch(_sorted, after, StringComparer.Ordinal);
            start = start >= 0 ? start + 1 : ~start;
        }

        var end = Math.Min(_sorted.Length, start + Math.Max(1, limit));
        var page = new ChannelMember[end - start];
        for (var i = start; i < end; i++)
        {
            page[i - start] = new ChannelMember(_sorted[i], _members[_sorted[i]].Sessions);
        }

        return new ChannelMembers(_members.Count, page, end < _sorted.Length ? _sorted[end - 1] : null);
    }

    public ChannelPresenceSnapshot ToSnapshot() => new(
        [.. _members.Select(m => new MemberSnapshot(
            m.Key,
            Array.ConvertAll(m.Value.PerEdge, e => e.Edge),
            Array.ConvertAll(m.Value.PerEdge, e => e.Sessions),
            m.Value.LeaveAtUnixMs))],
        [.. _watching]);

    public void Restore(ChannelPresenceSnapshot snapshot)
    {
        foreach (var saved in snapshot.Members)
        {
            var member = new Member { LeaveAtUnixMs = saved.LeaveAtUnixMs };
            member.PerEdge = new (string, int)[saved.Edges.Length];
            for (var i = 0; i < saved.Edges.Length; i++)
            {
                member.PerEdge[i] = (saved.Edges[i], saved.Sessions[i]);
                member.Sessions += saved.Sessions[i];
            }

            _members[saved.ClientId] = member;
            Sessions += member.Sessions;
            _leaving += member.LeaveAtUnixMs > 0 ? 1 : 0;
        }

        _watching.UnionWith(snapshot.Watching);
        _sorted = null;
    }

    private void Set(Member member, string edgeId, int sessions, bool debounce)
    {
        var before = member.Sessions;
        member.SetOn(edgeId, sessions);
        Sessions += member.Sessions - before;
        if (member.Sessions > 0 && member.LeaveAtUnixMs > 0)
        {
            // Back before its leave was due: others saw nothing.
            member.LeaveAtUnixMs = 0;
            _leaving--;
        }
        else if (member.Sessions == 0 && member.LeaveAtUnixMs == 0)
        {
            member.LeaveAtUnixMs = debounce ? time.GetUtcNow().Add(leaveDebounce).ToUnixTimeMilliseconds() : 1;
            _leaving++;
        }
        else if (member.Sessions == 0 && !debounce)
        {
            member.LeaveAtUnixMs = 1;
        }
    }

    private List<PresenceChange> TakeLeaves(long nowUnixMs)
    {
        var changes = new List<PresenceChange>();
        foreach (var (clientId, member) in _members)
        {
            if (member.LeaveAtUnixMs > 0 && member.LeaveAtUnixMs <= nowUnixMs)
            {
                changes.Add(new PresenceChange(clientId, Joined: false));
            }
        }

        foreach (var change in changes)
        {
            _members.Remove(change.ClientId);
            _leaving--;
        }

        if (changes.Count > 0)
        {
            _sorted = null;
        }

        return changes;
    }

    /// <summary>One client: its sessions per edge (nearly always one edge, so an array, not a dictionary).</summary>
    private sealed class Member
    {
        public (string Edge, int Sessions)[] PerEdge = [];

        public int Sessions;

        /// <summary>When its pending leave is due (Unix ms), or 0 while it has sessions.</summary>
        public long LeaveAtUnixMs;

        public int SessionsOn(string edgeId)
        {
            foreach (var (edge, sessions) in PerEdge)
            {
                if (string.Equals(edge, edgeId, StringComparison.Ordinal))
                {
                    return sessions;
                }
            }

            return 0;
        }

        public void SetOn(string edgeId, int sessions)
        {
            var index = Array.FindIndex(PerEdge, e => string.Equals(e.Edge, edgeId, StringComparison.Ordinal));
            var before = index < 0 ? 0 : PerEdge[index].Sessions;
            if (index < 0 && sessions > 0)
            {
                PerEdge = [.. PerEdge, (edgeId, sessions)];
            }
            else if (index >= 0 && sessions > 0)
            {
                PerEdge[index] = (edgeId, sessions);
            }
            else if (index >= 0)
            {
                PerEdge = [.. PerEdge.Where((_, i) => i != index)];
            }

            Sessions += sessions - before;
        }
    }
}

/// <summary>A channel's members as carried by grain migration.</summary>
[GenerateSerializer, Immutable, Alias("ogw.ChannelPresenceSnapshot")]
internal sealed record ChannelPresenceSnapshot(
    [property: Id(0)] MemberSnapshot[] Members,
    [property: Id(1)] string[] Watching);

/// <summary>One member: its sessions per edge and, when its leave is pending, when it is due (Unix ms).</summary>
[GenerateSerializer, Immutable, Alias("ogw.MemberSnapshot")]
internal sealed record MemberSnapshot(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string[] Edges,
    [property: Id(2)] int[] Sessions,
    [property: Id(3)] long LeaveAtUnixMs);
