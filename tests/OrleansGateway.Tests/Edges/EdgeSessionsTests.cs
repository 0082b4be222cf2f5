using Microsoft.Extensions.Time.Testing;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;
using static OrleansGateway.Tests.Edges.EdgeTestKit;

namespace OrleansGateway.Tests.Edges;

/// <summary>A grain's own edge state: its sessions per edge, everything else kept once per silo by the <see cref="EdgeDirectory"/>.</summary>
public sealed class EdgeSessionsTests
{
    private readonly EdgeDirectory _directory = Directory();
    private readonly TestGrain _grain = new("a");

    private EdgeSessions Create() => new(_directory, _grain);

    [Fact]
    public void Add_SameEdgeFromTwoGrains_BothKeepTheSilosSharedIdAndObserver()
    {
        var observer = Observer.Create();
        var first = new EdgeSessions(_directory, new TestGrain("a"));
        var second = new EdgeSessions(_directory, new TestGrain("b"));
        first.Add(new string("edge-1".AsSpan()), observer, 1);
        second.Add(new string("edge-1".AsSpan()), Observer.Create(), 2);

        var a = Assert.Single(first.ToSnapshot());
        var b = Assert.Single(second.ToSnapshot());
        Assert.Same(a.EdgeId, b.EdgeId);
        Assert.Same(a.Observer, b.Observer);
    }

    [Fact]
    public void Add_EdgeReconnectedWithNewObserver_PushesToTheNewOne()
    {
        var set = Create();
        set.Add("edge-1", Observer.Create(), 1);
        var renewed = Observer.Create();
        set.Add("edge-1", renewed, 2);

        var edge = Assert.Single(set.ToSnapshot());
        Assert.Same(renewed, edge.Observer);
        Assert.Equal([1L, 2L], edge.SessionIds);
        Assert.Same(renewed, Assert.Single(_directory.Routes).Observer);
    }

    [Fact]
    public void SessionCount_RetriedAttachAndSeveralEdges_CountsEachSessionOnce()
    {
        var set = Create();
        set.Add("edge-1", Observer.Create(), 1);
        set.Add("edge-1", Observer.Create(), 1);
        set.Add("edge-1", Observer.Create(), 2);
        set.Add("edge-2", Observer.Create(), 1);

        Assert.Equal(3, set.SessionCount);
        Assert.Equal(2, set.EdgeCount);
        Assert.True(set.Contains("edge-2", 1));
        Assert.False(set.Contains("edge-2", 2));
    }

    [Fact]
    public void RemoveSession_LastSessionOfEdge_RemovesEdgeAndUntracksTheGrainThere()
    {
        var set = Create();
        set.Add("edge-1", Observer.Create(), 1);
        set.Add("edge-1", Observer.Create(), 2);
        set.Add("edge-2", Observer.Create(), 3);

        Assert.False(set.RemoveSession("edge-1", 1));
        Assert.False(set.RemoveSession("edge-1", 9));
        Assert.True(set.RemoveSession("edge-1", 2));
        Assert.False(set.RemoveSession("edge-1", 2));

        Assert.Equal(["edge-2"], set.ToSnapshot().Select(e => e.EdgeId));
        var tracked = _directory.Routes.ToDictionary(r => r.EdgeId, r => r.TrackedCount);
        Assert.Equal(0, tracked["edge-1"]);
        Assert.Equal(1, tracked["edge-2"]);
    }

    [Fact]
    public void Restore_SnapshotOfAnotherSet_SameEdgesAndSessionsTrackedForTheNewGrain()
    {
        var set = Create();
        set.Add("edge-1", Observer.Create(), 1);
        set.Add("edge-1", Observer.Create(), 2);
        set.Add("edge-2", Observer.Create(), 3);

        var migrated = new TestGrain("a-migrated");
        var copy = new EdgeSessions(Directory(), migrated);
        copy.Restore(set.ToSnapshot());

        Assert.Equal(["edge-1", "edge-2"], copy.ToSnapshot().Select(e => e.EdgeId));
        Assert.Equal(3, copy.SessionCount);
        Assert.True(copy.Contains("edge-1", 2));
    }

    [Fact]
    public void Restore_EdgeTheSiloAlreadyKnows_KeepsTheObserverTheEdgeLastCalledWith()
    {
        var current = Observer.Create();
        Create().Add("edge-1", current, 1);

        var migrated = new EdgeSessions(_directory, new TestGrain("b"));
        migrated.Restore([new EdgeSessionsSnapshot("edge-1", Observer.Create(), [2])]);

        Assert.Same(current, Assert.Single(migrated.ToSnapshot()).Observer);
    }

    [Fact]
    public void UntrackAll_GrainDeactivates_DirectoryNoLongerTracksIt()
    {
        var set = Create();
        set.Add("edge-1", Observer.Create(), 1);
        set.Add("edge-2", Observer.Create(), 2);
        Assert.True(_directory.Tracks(_grain.GrainId));

        set.UntrackAll();

        Assert.False(_directory.Tracks(_grain.GrainId));
    }

    [Fact]
    public async Task Push_EdgeFoundLapsed_DroppedWithoutWaitingAndUntracked()
    {
        var time = new FakeTimeProvider();
        var lapsed = new EdgeLease(null, time.GetUtcNow() - TimeSpan.FromSeconds(1));
        var directory = Directory(_ => Task.FromResult(lapsed), time);
        var set = new EdgeSessions(directory, _grain);
        set.Add("edge-1", Observer.Create(), 1);

        Assert.False(set.Push(Batch("a", 1))); // never looked up: pushed, and the lookup starts
        Assert.False(await Assert.Single(directory.Routes).IsAliveAsync());
        Assert.True(set.Push(Batch("a", 2)));

        Assert.Equal(0, set.EdgeCount);
        Assert.False(directory.Tracks(_grain.GrainId));
    }
}
