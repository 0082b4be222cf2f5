using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;

namespace OrleansGateway.Tests.Edges;

public sealed class EdgeLeaseCacheTests
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    private readonly FakeTimeProvider _time = new();
    private readonly Dictionary<string, TaskCompletionSource<EdgeLease>> _lookups = [];
    private int _lookupCount;

    private EdgeLeaseCache Create() => new(
        edgeId =>
        {
            _lookupCount++;
            var lookup = new TaskCompletionSource<EdgeLease>(TaskCreationOptions.RunContinuationsAsynchronously);
            _lookups[edgeId] = lookup;
            return lookup.Task;
        },
        _time,
        NullLogger<EdgeLeaseCache>.Instance,
        LookupTimeout);

    private EdgeLease Lease(TimeSpan left) => new(null, _time.GetUtcNow() + left);

    [Fact]
    public void IsAlive_LookupNeverAnswers_AnswersAtOnceWithoutWaiting()
    {
        var leases = Create();

        Assert.True(leases.IsAlive("edge-1"));
        Assert.True(leases.IsAlive("edge-1"));
        Assert.Equal(1, _lookupCount);
    }

    [Fact]
    public async Task IsAlive_CachedLeaseRanOutAndLookupHangs_KeepsAnsweringAliveWithoutWaiting()
    {
        var leases = Create();
        var first = leases.IsAliveAsync("edge-1");
        _lookups["edge-1"].SetResult(Lease(TimeSpan.FromSeconds(3)));
        Assert.True(await first);

        _time.Advance(TimeSpan.FromSeconds(4)); // the cached copy ran out; the next lookup never answers
        Assert.True(leases.IsAlive("edge-1"));
        Assert.True(leases.IsAlive("edge-1"));
        Assert.Equal(2, _lookupCount);
    }

    [Fact]
    public async Task IsAliveAsync_LookupNeverAnswers_FailsOpenAtTheLookupTimeout()
    {
        var leases = Create();

        var answer = leases.IsAliveAsync("edge-1").AsTask();
        _time.Advance(LookupTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(answer.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(await answer.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task IsAlive_LeaseFoundLapsed_DeadUntilALookupFindsItRenewed()
    {
        var leases = Create();
        var first = leases.IsAliveAsync("edge-1");
        _lookups["edge-1"].SetResult(Lease(TimeSpan.FromSeconds(-1)));

        Assert.False(await first);
        Assert.False(leases.IsAlive("edge-1"));

        _time.Advance(TimeSpan.FromSeconds(2)); // the negative answer ran out: asked again, still dead meanwhile
        Assert.False(leases.IsAlive("edge-1"));
        _lookups["edge-1"].SetResult(Lease(TimeSpan.FromSeconds(3)));
        Assert.True(await leases.IsAliveAsync("edge-1"));
        Assert.True(leases.IsAlive("edge-1"));
    }

    [Fact]
    public async Task IsAliveAsync_ManyCallersWhileLookingUp_OneLookupThenCachedUntilExpiry()
    {
        var leases = Create();
        var answers = Enumerable.Range(0, 5).Select(_ => leases.IsAliveAsync("edge-1").AsTask()).ToList();
        Assert.True(leases.IsAlive("edge-1"));
        _lookups["edge-1"].SetResult(Lease(TimeSpan.FromSeconds(3)));

        Assert.All(await Task.WhenAll(answers), Assert.True);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await leases.IsAliveAsync("edge-1"));
        Assert.Equal(1, _lookupCount);
    }
}
