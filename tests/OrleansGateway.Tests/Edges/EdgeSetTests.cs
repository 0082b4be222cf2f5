using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;

namespace OrleansGateway.Tests.Edges;

public sealed class EdgeSetTests
{
    // Only Share is exercised here, which never calls the grain factory.
    private readonly EdgeLeaseCache _leases = new(null!, TimeProvider.System, NullLogger<EdgeLeaseCache>.Instance);
    private readonly Owner _owner = new();

    private EdgeSet Create() => new(_leases, _owner, NullLogger.Instance);

    [Fact]
    public void Add_SameEdgeFromTwoGrains_BothKeepTheSilosSharedIdAndObserver()
    {
        var observer = Observer.Create();
        var first = Create();
        var second = Create();
        first.Add(new string("edge-1".AsSpan()), observer, 1);
        second.Add(new string("edge-1".AsSpan()), observer, 2);

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
        Assert.Equal(["edge-1"], _owner.Added);
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
    public void RemoveSession_LastSessionOfEdge_RemovesEdgeAndTellsOwner()
    {
        var set = Create();
        set.Add("edge-1", Observer.Create(), 1);
        set.Add("edge-1", Observer.Create(), 2);
        set.Add("edge-2", Observer.Create(), 3);

        Assert.False(set.RemoveSession("edge-1", 1));
        Assert.False(set.RemoveSession("edge-1", 9));
        Assert.True(set.RemoveSession("edge-1", 2));
        Assert.False(set.RemoveSession("edge-1", 2));

        Assert.Equal(["edge-2"], set.EdgeIds);
        Assert.Equal(["edge-1"], _owner.Removed);
    }

    [Fact]
    public void Restore_SnapshotOfAnotherSet_SameEdgesAndSessions()
    {
        var set = Create();
        set.Add("edge-1", Observer.Create(), 1);
        set.Add("edge-1", Observer.Create(), 2);
        set.Add("edge-2", Observer.Create(), 3);

        var copy = Create();
        copy.Restore(set.ToSnapshot());

        Assert.Equal(["edge-1", "edge-2"], copy.EdgeIds);
        Assert.Equal(3, copy.SessionCount);
        Assert.True(copy.Contains("edge-1", 2));
    }

    private sealed class Owner : IEdgeSetOwner
    {
        public List<string> Added { get; } = [];

        public List<string> Removed { get; } = [];

        public void EdgeAdded(string edgeId) => Added.Add(edgeId);

        public void EdgeRemoved(string edgeId) => Removed.Add(edgeId);
    }

    /// <summary>A stand-in observer: equal only to itself, like two references to different observers.</summary>
    public class Observer : DispatchProxy
    {
        public static IEdgeObserver Create() => DispatchProxy.Create<IEdgeObserver, Observer>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(Equals) ? ReferenceEquals(this, args![0]) : Task.CompletedTask;
    }
}
