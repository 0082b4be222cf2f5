using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;

namespace OrleansGateway.Tests.Edges;

/// <summary>An edge's lease as the silo's <see cref="EdgeRoute"/> knows it: pushes never wait, pruning waits at most the lookup timeout.</summary>
public sealed class EdgeRouteLeaseTests
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    private readonly FakeTimeProvider _time = new();
    private readonly Dictionary<string, TaskCompletionSource<EdgeLease>> _lookups = [];
    private int _lookupCount;

    private EdgeRoute Create()
    {
        var directory = EdgeTestKit.Directory(
            edgeId =>
            {
                _lookupCount++;
                var lookup = new TaskCompletionSource<EdgeLease>(TaskCreationOptions.RunContinuationsAsynchronously);
                _lookups[edgeId] = lookup;
                return lookup.Task;
            },
            _time,
            LookupTimeout);
        return directory.Track("edge-1", EdgeTestKit.Observer.Create(), adopt: true, new EdgeTestKit.TestGrain("a"));
    }

    private EdgeLease Lease(TimeSpan left) => new(null, _time.GetUtcNow() + left);

    [Fact]
    public void IsAlive_CalledInsideAMessagesTrace_LookupRunsOutsideThatTrace()
    {
        Activity? seenByLookup = null;
        var looked = false;
        var directory = EdgeTestKit.Directory(
            _ =>
            {
                looked = true;
                seenByLookup = Activity.Current;
                return new TaskCompletionSource<EdgeLease>().Task;
            },
            _time,
            LookupTimeout);
        var route = directory.Track("edge-1", EdgeTestKit.Observer.Create(), adopt: true, new EdgeTestKit.TestGrain("a"));

        using var message = new Activity("deliver").Start();
        Assert.True(route.IsAlive());

        Assert.True(looked);
        Assert.Null(seenByLookup);
        Assert.Same(message, Activity.Current);
    }

    [Fact]
    public void IsAlive_LookupNeverAnswers_AnswersAtOnceWithoutWaiting()
    {
        var route = Create();

        Assert.True(route.IsAlive());
        Assert.True(route.IsAlive());
        Assert.Equal(1, _lookupCount);
    }

    [Fact]
    public async Task IsAlive_CachedLeaseRanOutAndLookupHangs_KeepsAnsweringAliveWithoutWaiting()
    {
        var route = Create();
        var first = route.IsAliveAsync();
        _lookups["edge-1"].SetResult(Lease(TimeSpan.FromSeconds(3)));
        Assert.True(await first);

        _time.Advance(TimeSpan.FromSeconds(4)); // the cached copy ran out; the next lookup never answers
        Assert.True(route.IsAlive());
        Assert.True(route.IsAlive());
        Assert.Equal(2, _lookupCount);
    }

    [Fact]
    public async Task IsAliveAsync_LookupNeverAnswers_FailsOpenAtTheLookupTimeout()
    {
        var route = Create();

        var answer = route.IsAliveAsync().AsTask();
        _time.Advance(LookupTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(answer.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(await answer.WaitAsync(EdgeTestKit.WaitLimit));
    }

    [Fact]
    public async Task IsAliveAsync_LookupFailedOpen_AskedAgainAfterOneSecond()
    {
        var route = Create();
        var answer = route.IsAliveAsync().AsTask();
        _time.Advance(LookupTimeout);
        Assert.True(await answer.WaitAsync(EdgeTestKit.WaitLimit));

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.True(await route.IsAliveAsync());
        Assert.Equal(1, _lookupCount);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        _ = route.IsAliveAsync();
        Assert.Equal(2, _lookupCount);
    }

    [Fact]
    public async Task IsAlive_LeaseFoundLapsed_DeadUntilALookupFindsItRenewed()
    {
        var route = Create();
        var first = route.IsAliveAsync();
        _lookups["edge-1"].SetResult(Lease(TimeSpan.FromSeconds(-1)));

        Assert.False(await first);
        Assert.False(route.IsAlive());

        _time.Advance(TimeSpan.FromSeconds(2)); // the negative answer ran out: asked again, still dead meanwhile
        Assert.False(route.IsAlive());
        _lookups["edge-1"].SetResult(Lease(TimeSpan.FromSeconds(3)));
        Assert.True(await route.IsAliveAsync());
        Assert.True(route.IsAlive());
    }

    [Fact]
    public async Task IsAliveAsync_ManyCallersWhileLookingUp_OneLookupThenCachedUntilExpiry()
    {
        var route = Create();
        var answers = Enumerable.Range(0, 5).Select(_ => route.IsAliveAsync().AsTask()).ToList();
        Assert.True(route.IsAlive());
        _lookups["edge-1"].SetResult(Lease(TimeSpan.FromSeconds(3)));

        Assert.All(await Task.WhenAll(answers), Assert.True);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await route.IsAliveAsync());
        Assert.Equal(1, _lookupCount);
    }
}
