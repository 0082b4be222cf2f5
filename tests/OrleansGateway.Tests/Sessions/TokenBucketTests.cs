using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.Tests.Sessions;

public sealed class TokenBucketTests
{
    [Fact]
    public void TryTake_BurstThenRefillAtRate_AllowsExactlyWhatWasEarned()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(rate: 10, burst: 3, time);
        Assert.True(bucket.TryTake());
        Assert.True(bucket.TryTake());
        Assert.True(bucket.TryTake());
        Assert.False(bucket.TryTake());

        time.Advance(TimeSpan.FromMilliseconds(100)); // earns one token
        Assert.True(bucket.TryTake());
        Assert.False(bucket.TryTake());

        time.Advance(TimeSpan.FromSeconds(10)); // capped at the burst
        Assert.Equal(3, Enumerable.Range(0, 10).Count(_ => bucket.TryTake()));
    }

    [Fact]
    public void TryTake_CostLargerThanTokens_RefusedWithoutSpending()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(rate: 100, burst: 1000, time);
        Assert.False(bucket.TryTake(1001));
        Assert.True(bucket.TryTake(1000));
    }
}
