using System.Collections.Concurrent;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrleansGateway.Streams.Kafka;

using OrleansGateway.Grains;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>What the probe grains received, process-wide (the test silos run in this process). Keys are unique per test.</summary>
public static class KafkaProbe
{
    private static readonly ConcurrentDictionary<string, List<InboundMessage>> Received = new();
    private static readonly ConcurrentDictionary<string, int> Attempts = new();
    private static readonly ConcurrentDictionary<string, int> FailuresLeft = new();
    private static TaskCompletionSource _changed = NewSignal();

    /// <summary>Makes the next <paramref name="times"/> deliveries to <paramref name="key"/> throw (<see cref="int.MaxValue"/>: until told otherwise).</summary>
    public static void FailNext(string key, int times) => FailuresLeft[key] = times;

    public static void StopFailing(string key) => FailuresLeft.TryRemove(key, out _);

    public static IReadOnlyList<InboundMessage> For(string key)
    {
        if (!Received.TryGetValue(key, out var list))
        {
            return [];
        }

        lock (list)
        {
            return list.ToList();
        }
    }

    /// <summary>Delivery attempts to <paramref name="key"/>, failed ones included.</summary>
    public static int AttemptsFor(string key) => Attempts.GetValueOrDefault(key);

    /// <summary>Waits until <paramref name="condition"/> holds, re-checking after every delivery attempt.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (condition())
            {
                return;
            }

            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}.");
            }
        }
    }

    internal static void Deliver(string key, InboundMessage record)
    {
        try
        {
            Attempts.AddOrUpdate(key, 1, (_, n) => n + 1);
            if (FailuresLeft.TryGetValue(key, out var left) && left > 0)
            {
                FailuresLeft[key] = left == int.MaxValue ? left : left - 1;
                throw new InvalidOperationException($"Probe {key} was told to fail.");
            }

            var list = Received.GetOrAdd(key, _ => []);
            lock (list)
            {
                list.Add(record);
            }
        }
        finally
        {
            Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public interface IKafkaProbeGrain : IGrainWithStringKey
{
    Task<int> CountAsync();
}

/// <summary>Stands in for the gateway's ClientGrain: implicitly subscribed to <c>ogw.client</c>, records what arrives.</summary>
[ImplicitStreamSubscription(KafkaRecordRouting.ClientNamespace)]
public sealed class KafkaProbeGrain : Grain, IKafkaProbeGrain, IStreamSubscriptionObserver, IAsyncObserver<InboundMessage>
{
    public Task<int> CountAsync() => Task.FromResult(KafkaProbe.For(this.GetPrimaryKeyString()).Count);

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<InboundMessage>().ResumeAsync(this);

    public Task OnNextAsync(InboundMessage item, StreamSequenceToken? token = null)
    {
        KafkaProbe.Deliver(this.GetPrimaryKeyString(), item);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
