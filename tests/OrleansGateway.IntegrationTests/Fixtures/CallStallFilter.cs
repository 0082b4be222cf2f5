using System.Collections.Concurrent;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// Test-only grain call filter (silos and edges): armed calls of one method to one grain never get an answer until
/// the test releases them, as a call whose message a stopping silo lost waits for Orleans' 30 s response timeout.
/// Off unless a test arms it.
/// </summary>
internal sealed class CallStallFilter : IOutgoingGrainCallFilter
{
    private static readonly ConcurrentDictionary<(string Method, string Key), Stall> Armed = new();

    /// <summary>
    /// Stalls the next <paramref name="count"/> calls of <paramref name="method"/> to the grain keyed
    /// <paramref name="grainKey"/> until the returned handle is disposed.
    /// </summary>
    public static IDisposable Arm(string method, string grainKey, int count = int.MaxValue)
    {
        var stall = new Stall((method, grainKey), count);
        Armed[(method, grainKey)] = stall;
        return stall;
    }

    /// <summary>Calls stalled so far.</summary>
    public static int Stalled(string method, string grainKey) => Armed.TryGetValue((method, grainKey), out var stall) ? stall.Stalled : 0;

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (!Armed.IsEmpty
            && context.InterfaceMethod is { } method
            && Armed.TryGetValue((method.Name, context.TargetId.Key.ToString()!), out var stall)
            && stall.TryTake())
        {
            await stall.Released.Task;
        }

        await context.Invoke();
    }

    private sealed class Stall((string, string) key, int count) : IDisposable
    {
        private int _stalled;

        public int Stalled => Volatile.Read(ref _stalled);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryTake()
        {
            while (true)
            {
                var stalled = Volatile.Read(ref _stalled);
                if (stalled >= count)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _stalled, stalled + 1, stalled) == stalled)
                {
                    return true;
                }
            }
        }

        public void Dispose()
        {
            Armed.TryRemove(key, out _);
            Released.TrySetResult();
        }
    }
}
