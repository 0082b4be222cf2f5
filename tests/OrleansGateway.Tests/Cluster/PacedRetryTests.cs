using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Cluster;

namespace OrleansGateway.Tests.Cluster;

public sealed class PacedRetryTests
{
    private readonly FakeTimeProvider _time = new();

    private static async Task Until(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(1, cts.Token);
        }
    }

    [Fact]
    public async Task RunAsync_MoreItemsThanOneBatch_OneBatchPerInterval()
    {
        var started = 0;
        var pacer = new PacedRetry(callsPerSecond: 100, TimeSpan.FromSeconds(1), _time);
        Assert.Equal(10, pacer.BatchSize);

        var run = pacer.RunAsync(Enumerable.Range(0, 25).ToList(), _ => Task.FromResult(++started > 0), TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(10, started);

        _time.Advance(PacedRetry.BatchInterval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(10, started);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Until(() => started == 20);
        _time.Advance(PacedRetry.BatchInterval);
        await Until(() => started == 25);

        Assert.Empty(await run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task RunAsync_OneCallFailsTwice_OnlyItRetriedAfterDoublingDelays()
    {
        var calls = new List<(string Item, TimeSpan At)>();
        var origin = _time.GetUtcNow();
        var failuresLeft = 2;
        var pacer = new PacedRetry(callsPerSecond: 100, TimeSpan.FromSeconds(5), _time);

        var run = pacer.RunAsync(["ok", "flaky"], item =>
        {
            lock (calls)
            {
                calls.Add((item, _time.GetUtcNow() - origin));
            }

            return Task.FromResult(item == "ok" || failuresLeft-- <= 0);
        }, TimeSpan.FromSeconds(30), CancellationToken.None);

        _time.Advance(PacedRetry.FirstRetryDelay);
        await Until(() => calls.Count == 3);
        _time.Advance(PacedRetry.FirstRetryDelay * 2);
        await Until(() => calls.Count == 4);

        Assert.Empty(await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(
            [("ok", TimeSpan.Zero), ("flaky", TimeSpan.Zero), ("flaky", TimeSpan.FromMilliseconds(250)), ("flaky", TimeSpan.FromMilliseconds(750))],
            calls);
    }

    [Fact]
    public async Task RunAsync_StillFailingWhenTimeIsUp_ReturnsItAfterCappedDelays()
    {
        var attempts = new List<TimeSpan>();
        var origin = _time.GetUtcNow();
        var pacer = new PacedRetry(callsPerSecond: 100, maxRetryDelay: TimeSpan.FromSeconds(1), _time);

        var run = pacer.RunAsync(["down"], _ =>
        {
            lock (attempts)
            {
                attempts.Add(_time.GetUtcNow() - origin);
            }

            return Task.FromResult(false);
        }, TimeSpan.FromSeconds(2), CancellationToken.None);

        _time.Advance(TimeSpan.FromMilliseconds(250));
        await Until(() => attempts.Count == 2);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        await Until(() => attempts.Count == 3);
        _time.Advance(TimeSpan.FromSeconds(1)); // 1 s, not 2 s: capped at maxRetryDelay
        await Until(() => attempts.Count == 4);

        // The next retry (1 s later, at 2.75 s) would be past the 2 s allowed: the item is handed back.
        Assert.Equal(["down"], await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal([0, 250, 750, 1750], attempts.Select(a => (int)a.TotalMilliseconds));
    }

    [Fact]
    public async Task RunAsync_Cancelled_StopsBetweenBatches()
    {
        using var cts = new CancellationTokenSource();
        var started = 0;
        var pacer = new PacedRetry(callsPerSecond: 10, TimeSpan.FromSeconds(1), _time);

        var run = pacer.RunAsync(Enumerable.Range(0, 5).ToList(), _ => Task.FromResult(++started > 0), TimeSpan.FromSeconds(10), cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, started);
    }
}
