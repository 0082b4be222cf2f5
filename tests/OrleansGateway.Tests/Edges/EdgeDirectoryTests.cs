using OrleansGateway.Grains.Edges;
using static OrleansGateway.Tests.Edges.EdgeTestKit;

namespace OrleansGateway.Tests.Edges;

/// <summary>The silo's one owner of edge routes: tracked grains for the dead-edge sweep, and the grains due a re-push.</summary>
public sealed class EdgeDirectoryTests
{
    private readonly EdgeDirectory _directory = Directory();

    [Fact]
    public void Track_TwoGrainsOneEdge_OneRouteTrackingBoth()
    {
        var a = new TestGrain("a");
        var b = new TestGrain("b", isChannel: true);

        var first = _directory.Track("edge-1", Observer.Create(), adopt: true, a);
        var second = _directory.Track("edge-1", Observer.Create(), adopt: true, b);

        Assert.Same(first, second);
        Assert.Equal([(a.GrainId, false), (b.GrainId, true)], first.TrackedGrains().Select(g => (g.Key, g.Value)).OrderBy(g => g.Value));
        Assert.True(_directory.Tracks(b.GrainId));
    }

    [Fact]
    public void TryForget_RouteStillTracked_Kept()
    {
        var route = _directory.Track("edge-1", Observer.Create(), adopt: true, new TestGrain("a"));

        Assert.False(_directory.TryForget(route));
        Assert.Same(route, Assert.Single(_directory.Routes));
    }

    [Fact]
    public void Track_AfterTheRouteWasForgotten_GetsANewRoute()
    {
        var grain = new TestGrain("a");
        var old = _directory.Track("edge-1", Observer.Create(), adopt: true, grain);
        old.Untrack(grain.GrainId);
        Assert.True(_directory.TryForget(old));
        Assert.Empty(_directory.Routes);

        var renewed = _directory.Track("edge-1", Observer.Create(), adopt: true, grain);

        Assert.NotSame(old, renewed);
        Assert.False(old.Track(grain.GrainId, false)); // a forgotten route never tracks again: the sweep would not see it
        Assert.True(_directory.Tracks(grain.GrainId));
    }

    [Fact]
    public void TakeRepushes_GrainsThatPushedAndOneCancelled_EachOtherOnceThenNone()
    {
        var a = new TestGrain("a");
        var b = new TestGrain("b", isChannel: true);
        var c = new TestGrain("c");
        _directory.RepushLater(a.GrainId, false);
        _directory.RepushLater(a.GrainId, false);
        _directory.RepushLater(b.GrainId, true);
        _directory.RepushLater(c.GrainId, false);
        _directory.CancelRepush(c.GrainId);

        var due = _directory.TakeRepushes().ToDictionary(g => g.Key, g => g.Value);

        Assert.Equal(2, due.Count);
        Assert.False(due[a.GrainId]);
        Assert.True(due[b.GrainId]);
        Assert.Empty(_directory.TakeRepushes());
    }
}
