using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;

namespace OrleansGateway.Tests.Edges;

public sealed class EdgePushBatcherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Deliver_PushesQueuedWhileAFlushRuns_SentAsOneCallInOrder()
    {
        var edge = new RecordingEdge(blockFirstCall: true);
        var batcher = NewBatcher();

        batcher.Deliver("e1", edge, Batch("a", 1));
        Assert.True(edge.FirstCallEntered.Wait(Timeout));
        batcher.Deliver("e1", edge, Batch("b", 1));
        batcher.Deliver("e1", edge, Batch("a", 2));
        batcher.Deliver("e1", edge, Batch("c", 1));
        edge.Release();

        var calls = await edge.WaitForCallsAsync(2);
        Assert.Equal(["deliver a:1", "many b:1,a:2,c:1"], calls);
    }

    [Fact]
    public async Task Disconnect_QueuedBehindDeliveries_NeverOvertakesThem()
    {
        var edge = new RecordingEdge(blockFirstCall: true);
        var batcher = NewBatcher();

        batcher.Deliver("e1", edge, Batch("a", 1));
        Assert.True(edge.FirstCallEntered.Wait(Timeout));
        batcher.Deliver("e1", edge, Batch("a", 2));
        batcher.Deliver("e1", edge, Batch("b", 1));
        batcher.Disconnect("e1", edge, "a", "kicked");
        batcher.Deliver("e1", edge, Batch("b", 2));
        edge.Release();

        var calls = await edge.WaitForCallsAsync(4);
        Assert.Equal(["deliver a:1", "many a:2,b:1", "disconnect a kicked", "deliver b:2"], calls);
    }

    [Fact]
    public async Task Deliver_EdgeReplacedItsObserver_EachObserverGetsOnlyItsOwnPushes()
    {
        var blocker = new RecordingEdge(blockFirstCall: true);
        var old = new RecordingEdge(blockFirstCall: false);
        var renewed = new RecordingEdge(blockFirstCall: false);
        var batcher = NewBatcher();

        batcher.Deliver("e1", blocker, Batch("x", 1));
        Assert.True(blocker.FirstCallEntered.Wait(Timeout));
        batcher.Deliver("e1", old, Batch("a", 1));
        batcher.Deliver("e1", old, Batch("b", 1));
        batcher.Deliver("e1", renewed, Batch("a", 2));
        blocker.Release();

        Assert.Equal(["many a:1,b:1"], await old.WaitForCallsAsync(1));
        Assert.Equal(["deliver a:2"], await renewed.WaitForCallsAsync(1));
    }

    [Fact]
    public async Task Deliver_ObserverThrows_LaterPushesStillSent()
    {
        var edge = new RecordingEdge(blockFirstCall: false) { ThrowOnFirstCall = true };
        var batcher = NewBatcher();

        batcher.Deliver("e1", edge, Batch("a", 1));
        await edge.WaitForCallsAsync(1);
        batcher.Deliver("e1", edge, Batch("a", 2));

        Assert.Equal(["deliver a:1", "deliver a:2"], await edge.WaitForCallsAsync(2));
    }

    private static EdgePushBatcher NewBatcher() =>
        new(new GrainMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>()), NullLogger<EdgePushBatcher>.Instance);

    private static MailboxBatch Batch(string clientId, long seq) => new(clientId, [new MailboxMessage(seq, "s", [], 0)]);

    /// <summary>Records calls as text; can hold its first call until released, so later pushes queue up meanwhile.</summary>
    private sealed class RecordingEdge(bool blockFirstCall) : IEdgeObserver
    {
        private readonly List<string> _calls = [];
        private readonly ManualResetEventSlim _release = new(!blockFirstCall);
        private int _count;

        public ManualResetEventSlim FirstCallEntered { get; } = new();

        public bool ThrowOnFirstCall { get; init; }

        public void Release() => _release.Set();

        public async Task<List<string>> WaitForCallsAsync(int count)
        {
            using var cts = new CancellationTokenSource(Timeout);
            while (true)
            {
                lock (_calls)
                {
                    if (_calls.Count >= count)
                    {
                        return [.. _calls];
                    }
                }

                await Task.Delay(5, cts.Token); // polling a condition, bounded by the timeout
            }
        }

        public Task DeliverAsync(MailboxBatch batch) => Record($"deliver {Describe(batch)}");

        public Task DeliverManyAsync(MailboxBatch[] batches) => Record($"many {string.Join(',', batches.Select(Describe))}");

        public Task PublishAsync(ChannelBatch batch) => Record("publish");

        public Task DisconnectAsync(string clientId, string code) => Record($"disconnect {clientId} {code}");

        private static string Describe(MailboxBatch batch) => $"{batch.ClientId}:{batch.Messages[0].Seq}";

        private Task Record(string call)
        {
            var first = Interlocked.Increment(ref _count) == 1;
            lock (_calls)
            {
                _calls.Add(call);
            }

            if (first)
            {
                FirstCallEntered.Set();
                Assert.True(_release.Wait(Timeout));
                if (ThrowOnFirstCall)
                {
                    throw new InvalidOperationException("edge failed");
                }
            }

            return Task.CompletedTask;
        }
    }
}
