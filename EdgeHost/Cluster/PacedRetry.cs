namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// Runs one call per item at a bounded rate (a batch every <see cref="BatchInterval"/>), then retries the items whose
/// call failed, with doubling delays from <see cref="FirstRetryDelay"/> up to a maximum, until every call succeeded or
/// the time allowed is up. Pure scheduling (time from <see cref="TimeProvider"/>), tested on its own.
/// </summary>
internal sealed class PacedRetry(int callsPerSecond, TimeSpan maxRetryDelay, TimeProvider time)
{
    /// <summary>One batch of calls starts per interval: <c>callsPerSecond / 10</c> calls every 100 ms.</summary>
    internal static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Pause before the first retry; doubled after each.</summary>
    internal static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Calls started together per <see cref="BatchInterval"/>.</summary>
    internal int BatchSize { get; } = Math.Max(1, (int)Math.Ceiling(callsPerSecond * BatchInterval.TotalSeconds));

    /// <summary>
    /// Calls <paramref name="call"/> for every item (true: done; false: retry later; it must not throw), retrying for at
    /// most <paramref name="retryFor"/>. Returns the items still failing when the time was up (empty when all succeeded).
    /// </summary>
    public async Task<IReadOnlyList<T>> RunAsync<T>(IReadOnlyList<T> items, Func<T, Task<bool>> call, TimeSpan retryFor, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + retryFor;
        var delay = FirstRetryDelay;
        var pending = items;
        while (true)
        {
            pending = await PassAsync(pending, call, cancellationToken);
            if (pending.Count == 0 || time.GetUtcNow() + delay > deadline)
            {
                return pending;
            }

            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, maxRetryDelay.Ticks));
        }
    }

    private async Task<List<T>> PassAsync<T>(IReadOnlyList<T> items, Func<T, Task<bool>> call, CancellationToken cancellationToken)
    {
        var failed = new List<T>();
        var calls = new Task<bool>[Math.Min(BatchSize, items.Count)];
        for (var start = 0; start < items.Count; start += BatchSize)
        {
            var started = time.GetTimestamp();
            var count = Math.Min(BatchSize, items.Count - start);
            for (var i = 0; i < count; i++)
            {
                calls[i] = call(items[start + i]);
            }

            for (var i = 0; i < count; i++)
            {
                if (!await calls[i])
                {
                    failed.Add(items[start + i]);
                }
            }

            if (start + count < items.Count && BatchInterval - time.GetElapsedTime(started) is { Ticks: > 0 } rest)
            {
                await Task.Delay(rest, time, cancellationToken);
            }
        }

        return failed;
    }
}
