using System.Collections.Concurrent;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// Test-only grain call filter (silos and edges): armed calls of one method to one grain never get an answer until
/// the test releases them, as a call whose message a stopping silo lost waits for Orleans' 30 s response timeout.
/// Off unless a test arms it.
/// </summary>
internal sealed class CallStallFilter : IOutgoingGrainCallFilter, IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<(string Method, string Key), Stall> Armed = new();

    /// <summary>Where an armed call waits.</summary>
    public enum At
    {
        /// <summary>In the caller, before the call is sent: only the caller's own deadline ends the wait.</summary>
        Caller,

        /// <summary>In the grain (holding its turn): the request was sent, so the caller's Orleans response timeout applies.</summary>
        Grain,
    }

    /// <summary>
    /// Stalls the next <paramref name="count"/> calls of <paramref name="method"/> to the grain keyed
    /// <paramref name="grainKey"/>, <paramref name="at"/> the caller or the grain, until the returned handle is disposed.
    /// </summary>
    public static IDisposable Arm(string method, string grainKey, int count = int.MaxValue, At at = At.Caller)
    {
        var stall = new Stall((method, grainKey), count, at);
        Armed[(method, grainKey)] = stall;
        return stall;
    }

    /// <summary>Calls stalled so far.</summary>
    public static int Stalled(string method, string grainKey) => Armed.TryGetValue((method, grainKey), out var stall) ? stall.Stalled : 0;

    public Task Invoke(IOutgoingGrainCallContext context) => StallThenInvokeAsync(context, At.Caller);

    public Task Invoke(IIncomingGrainCallContext context) => StallThenInvokeAsync(context, At.Grain);

    private static async Task StallThenInvokeAsync(IGrainCallContext context, At at)
    {
        if (!Armed.IsEmpty
            && context.InterfaceMethod is { } method
            && Armed.TryGetValue((method.Name, context.TargetId.Key.ToString()!), out var stall)
            && stall.At == at
            && stall.TryTake())
        {
            await stall.Released.Task;
        }

        await context.Invoke();
    }

    private sealed class Stall((string, string) key, int count, At at) : IDisposable
    {
        private int _stalled;

        public At At => at;

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
