using OrleansGateway.Client;

namespace OrleansGateway.IntegrationTests.ClientSdk;

/// <summary>The SDK's reconnect delay: exponential bound, full jitter, capped.</summary>
public sealed class GatewayClientBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(0, 200)]
    [InlineData(1, 400)]
    [InlineData(2, 800)]
    [InlineData(5, 6_400)]
    public void Backoff_HighestJitter_DoublesPerAttempt(int attempt, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), GatewayClient.Backoff(attempt, Base, Max, jitter: 1.0));

    [Theory]
    [InlineData(6)]
    [InlineData(30)]
    [InlineData(int.MaxValue)]
    public void Backoff_AttemptBeyondTheCap_NeverExceedsMaxDelay(int attempt) =>
        Assert.Equal(Max, GatewayClient.Backoff(attempt, Base, Max, jitter: 1.0));

    [Fact]
    public void Backoff_FullJitter_ScalesTheWholeRangeFromZero()
    {
        Assert.Equal(TimeSpan.Zero, GatewayClient.Backoff(3, Base, Max, jitter: 0.0));
        Assert.Equal(TimeSpan.FromMilliseconds(400), GatewayClient.Backoff(3, Base, Max, jitter: 0.25));
        Assert.Equal(TimeSpan.FromMilliseconds(5_000), GatewayClient.Backoff(40, Base, Max, jitter: 0.5));
    }

    [Fact]
    public void Backoff_RandomJitter_StaysWithinZeroAndTheBound()
    {
        var random = new Random(42);
        for (var attempt = 0; attempt < 12; attempt++)
        {
            var bound = TimeSpan.FromMilliseconds(Math.Min(Max.TotalMilliseconds, Base.TotalMilliseconds * Math.Pow(2, attempt)));
            var delay = GatewayClient.Backoff(attempt, Base, Max, random.NextDouble());
            Assert.InRange(delay, TimeSpan.Zero, bound);
        }
    }
}
