using Microsoft.Extensions.Time.Testing;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Members;

namespace OrleansGateway.Tests.Members;

public sealed class ChannelPresenceTests
{
    private static readonly TimeSpan Debounce = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();
    private readonly ChannelPresence _presence;

    public ChannelPresenceTests() => _presence = new ChannelPresence(Debounce, _time);

    private static MemberReport Report(params (string Client, int Sessions)[] counts) =>
        new([.. counts.Select(c => new MemberCount(c.Client, c.Sessions))], Watching: true, Full: false);

    [Fact]
    public void Apply_SameClientOnTwoEdges_OneMemberOneJoinSessionsSummed()
    {
        var first = _presence.Apply("e1", Report(("alice", 1)));
        var second = _presence.Apply("e2", Report(("alice", 2)));

        Assert.Equal([new PresenceChange("alice", true)], first);
        Assert.Empty(second);
        Assert.Equal(1, _presence.Clients);
        Assert.Equal(3, _presence.Sessions);
    }

    [Fact]
    public void LastSessionGone_BeforeDebounce_NoLeaveAndStillMember()
    {
        _presence.Apply("e1", Report(("alice", 1)));
        _presence.Apply("e1", Report(("alice", 0)));
        _time.Advance(Debounce - TimeSpan.FromMilliseconds(1));

        Assert.Empty(_presence.TakeDueLeaves());
        Assert.Equal(1, _presence.Clients);
        Assert.True(_presence.HasPendingLeaves);
    }

    [Fact]
    public void LastSessionGone_AfterDebounce_LeaveOnce()
    {
        _presence.Apply("e1", Report(("alice", 1)));
        _presence.Apply("e1", Report(("alice", 0)));
        _time.Advance(Debounce);

        Assert.Equal([new PresenceChange("alice", false)], _presence.TakeDueLeaves());
        Assert.Empty(_presence.TakeDueLeaves());
        Assert.Equal(0, _presence.Clients);
    }

    [Fact]
    public void DrainedEdge_ClientRejoinsElsewhereWithinDebounce_NoLeaveNoJoin()
    {
        _presence.Apply("e1", Report(("alice", 1)));
        _presence.DropEdge("e1", debounce: true);
        _time.Advance(TimeSpan.FromSeconds(3));
        var tickDuringMove = _presence.TakeDueLeaves(); // the grain's presence check runs meanwhile
        var joins = _presence.Apply("e2", Report(("alice", 1)));
        _time.Advance(Debounce * 2);

        Assert.Empty(tickDuringMove);
        Assert.Empty(joins);
        Assert.Empty(_presence.TakeDueLeaves());
        Assert.Equal(1, _presence.Clients);
    }

    [Fact]
    public void DropEdge_LeaseLapsed_MembersOnlyThereLeaveAtOnce()
    {
        _presence.Apply("e1", Report(("alice", 1), ("bob", 1)));
        _presence.Apply("e2", Report(("bob", 1)));

        var leaves = _presence.DropEdge("e1", debounce: false);

        Assert.Equal([new PresenceChange("alice", false)], leaves);
        Assert.Equal(1, _presence.Clients);
        Assert.Equal(1, _presence.Sessions);
    }

    [Fact]
    public void Apply_FullReport_MembersMissingFromItLeaveThatEdge()
    {
        _presence.Apply("e1", Report(("alice", 1), ("bob", 1)));

        _presence.Apply("e1", new MemberReport([new MemberCount("bob", 1)], Watching: true, Full: true));
        _time.Advance(Debounce);

        Assert.Equal([new PresenceChange("alice", false)], _presence.TakeDueLeaves());
    }

    [Fact]
    public void Page_AfterCursor_OrderedBoundedWithNext()
    {
        _presence.Apply("e1", Report(("carol", 1), ("alice", 2), ("bob", 1)));

        var first = _presence.Page(null, 2);
        var second = _presence.Page(first.Next, 2);

        Assert.Equal(3, first.Total);
        Assert.Equal(["alice", "bob"], first.Members.Select(m => m.ClientId));
        Assert.Equal(2, first.Members[0].Sessions);
        Assert.Equal("bob", first.Next);
        Assert.Equal(["carol"], second.Members.Select(m => m.ClientId));
        Assert.Null(second.Next);
    }

    [Fact]
    public void Snapshot_Restored_KeepsMembersWatchersAndPendingLeaves()
    {
        _presence.Apply("e1", Report(("alice", 1), ("bob", 2)));
        _presence.Apply("e1", Report(("alice", 0)));
        var restored = new ChannelPresence(Debounce, _time);

        restored.Restore(_presence.ToSnapshot());
        _time.Advance(Debounce);

        Assert.Equal(2, restored.Clients);
        Assert.Equal(2, restored.Sessions);
        Assert.Contains("e1", restored.Watching);
        Assert.Equal([new PresenceChange("alice", false)], restored.TakeDueLeaves());
    }
}
