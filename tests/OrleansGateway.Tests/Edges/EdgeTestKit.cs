using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;

namespace OrleansGateway.Tests.Edges;

/// <summary>What the tests of the silo's edge bookkeeping share: a directory over a scripted lease lookup, stand-in grains and observers.</summary>
internal static class EdgeTestKit
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    public static EdgeDirectory Directory(Func<string, Task<EdgeLease>> lookup, TimeProvider time, TimeSpan? lookupTimeout = null) =>
        new(lookup, Metrics(), time, NullLogger.Instance, lookupTimeout ?? EdgeDirectory.DefaultLookupTimeout);

    /// <summary>A directory whose lease lookups never answer (routes stay alive, never looked up again before the timeout).</summary>
    public static EdgeDirectory Directory() => Directory(_ => new TaskCompletionSource<EdgeLease>().Task, TimeProvider.System);

    public static GrainMetrics Metrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    /// <summary>
    /// A copy of <paramref name="items"/> (locked by the recorder while it adds) once it holds at least
    /// <paramref name="count"/>: polling a condition, bounded by <see cref="WaitLimit"/>.
    /// </summary>
    public static async Task<List<T>> WaitForCountAsync<T>(List<T> items, int count)
    {
        using var cts = new CancellationTokenSource(WaitLimit);
        while (true)
        {
            lock (items)
            {
                if (items.Count >= count)
                {
                    return [.. items];
                }
            }

            await Task.Delay(5, cts.Token);
        }
    }

    public static MailboxBatch Batch(string clientId, long seq) => new(clientId, [new StreamMessage(seq, "s", [], 0)]);

    public static ChannelBatch Publication(string channel, long off) => new(channel, [new StreamMessage(off, "s", [], 0)]);

    /// <summary>A grain as the sweep tracks it.</summary>
    public sealed class TestGrain(string key, bool isChannel = false) : ITrackedGrain
    {
        public GrainId GrainId { get; } = GrainId.Create(isChannel ? "channel" : "client", key);

        public bool IsChannel { get; } = isChannel;
    }

    /// <summary>A stand-in observer: equal only to itself, like two references to different observers.</summary>
    public class Observer : DispatchProxy
    {
        public static IEdgeObserver Create() => DispatchProxy.Create<IEdgeObserver, Observer>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(Equals) ? ReferenceEquals(this, args![0]) : Task.CompletedTask;
    }

    /// <summary>An edge observer that records the send answers pushed to it.</summary>
    public sealed class AckRecorder : IEdgeObserver
    {
        private readonly List<SendAck> _acks = [];

        public Task<List<SendAck>> WaitForAcksAsync(int count) => WaitForCountAsync(_acks, count);

        public Task PushAsync(EdgePush push)
        {
            lock (_acks)
            {
                _acks.AddRange(push.Acks ?? []);
            }

            return Task.CompletedTask;
        }

        public Task DeliverAsync(MailboxBatch batch) => Task.CompletedTask;

        public Task DeliverManyAsync(MailboxBatch[] batches) => Task.CompletedTask;

        public Task DeliverPublicationsAsync(ChannelBatch batch) => Task.CompletedTask;

        public Task DisconnectAsync(string clientId, string code) => Task.CompletedTask;
    }
}
