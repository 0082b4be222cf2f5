using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;
using static OrleansGateway.Tests.Edges.EdgeTestKit;

namespace OrleansGateway.Tests.Edges;

/// <summary>
/// The per-edge push queue: what the silo's grains push to one edge in the same instant, direct messages and channel
/// publications alike, leaves in one call, in order.
/// </summary>
public sealed class EdgePushQueueTests
{
    private readonly EdgeDirectory _directory = Directory();

    private EdgeRoute Route(IEdgeObserver edge) => _directory.Track("e1", edge, adopt: true, new TestGrain("a"));

    [Fact]
    public async Task Enqueue_PushesQueuedWhileAFlushRuns_SentAsOneCallInOrder()
    {
        var edge = new RecordingEdge(blockFirstCall: true);
        var queue = Route(edge).Pushes;

        queue.Enqueue(Batch("a", 1));
        Assert.True(edge.FirstCallEntered.Wait(WaitLimit));
        queue.Enqueue(Batch("b", 1));
        queue.Enqueue(Batch("a", 2));
        queue.Enqueue(Batch("c", 1));
        edge.Release();

        var calls = await edge.WaitForCallsAsync(2);
        Assert.Equal(["push a:1", "push b:1,a:2,c:1"], calls);
    }

    [Fact]
    public async Task Enqueue_PublicationsAndMessagesQueuedTogether_SentAsOneCallEachKindInOrder()
    {
        var edge = new RecordingEdge(blockFirstCall: true);
        var queue = Route(edge).Pushes;

        queue.Enqueue(Publication("news", 1));
        Assert.True(edge.FirstCallEntered.Wait(WaitLimit));
        queue.Enqueue(Publication("news", 2));
        queue.Enqueue(Batch("a", 1));
        queue.Enqueue(Publication("sport", 1));
        queue.Enqueue(Batch("a", 2));
        edge.Release();

        var calls = await edge.WaitForCallsAsync(2);
        Assert.Equal(["push | news:1", "push a:1,a:2 | news:2,sport:1"], calls);
    }

    [Fact]
    public async Task EnqueueDisconnect_QueuedBehindDeliveries_NeverOvertakesThem()
    {
        var edge = new RecordingEdge(blockFirstCall: true);
        var queue = Route(edge).Pushes;

        queue.Enqueue(Batch("a", 1));
        Assert.True(edge.FirstCallEntered.Wait(WaitLimit));
        queue.Enqueue(Batch("a", 2));
        queue.Enqueue(Batch("b", 1));
        queue.EnqueueDisconnect("a", "kicked");
        queue.Enqueue(Batch("b", 2));
        edge.Release();

        var calls = await edge.WaitForCallsAsync(4);
        Assert.Equal(["push a:1", "push a:2,b:1", "disconnect a kicked", "push b:2"], calls);
    }

    [Fact]
    public async Task Enqueue_EdgeReplacedItsObserverMeanwhile_QueuedPushesGoToTheNewOne()
    {
        var old = new RecordingEdge(blockFirstCall: true);
        var renewed = new RecordingEdge(blockFirstCall: false);
        var route = Route(old);

        route.Pushes.Enqueue(Batch("a", 1));
        Assert.True(old.FirstCallEntered.Wait(WaitLimit));
        route.Pushes.Enqueue(Batch("b", 1));
        route.Adopt(renewed); // the edge re-created its observer: what is still queued must reach the live one
        route.Pushes.Enqueue(Batch("a", 2));
        old.Release();

        Assert.Equal(["push b:1,a:2"], await renewed.WaitForCallsAsync(1));
        Assert.Equal(["push a:1"], await old.WaitForCallsAsync(1));
    }

    [Fact]
    public async Task Enqueue_ObserverThrows_LaterPushesStillSent()
    {
        var edge = new RecordingEdge(blockFirstCall: false) { ThrowOnFirstCall = true };
        var queue = Route(edge).Pushes;

        queue.Enqueue(Batch("a", 1));
        await edge.WaitForCallsAsync(1);
        queue.Enqueue(Batch("a", 2));

        Assert.Equal(["push a:1", "push a:2"], await edge.WaitForCallsAsync(2));
    }

    [Fact]
    public async Task EnqueueAck_QueuedWithMessages_RidesInTheSamePushCall()
    {
        var edge = new RecordingEdge(blockFirstCall: true);
        var queue = Route(edge).Pushes;

        queue.Enqueue(Batch("a", 1));
        Assert.True(edge.FirstCallEntered.Wait(WaitLimit));
        queue.Enqueue(Batch("b", 1));
        queue.Enqueue(new SendAck(7, SendOutcome.Accepted, 1));
        queue.Enqueue(Batch("b", 2));
        queue.Enqueue(new SendAck(8, SendOutcome.Duplicate, 1));
        edge.Release();

        Assert.Equal(["push a:1", "push b:1,b:2 acks 7,8"], await edge.WaitForCallsAsync(2));
    }

    [Fact]
    public async Task EnqueueAck_NothingElseQueued_SentAloneInAPush()
    {
        var edge = new RecordingEdge(blockFirstCall: false);
        var queue = Route(edge).Pushes;

        queue.Enqueue(new SendAck(3, SendOutcome.Accepted, 12));

        Assert.Equal(["push  acks 3"], await edge.WaitForCallsAsync(1));
    }

    [Fact]
    public async Task EnqueueAck_BehindADisconnect_SentOnceAfterIt()
    {
        var edge = new RecordingEdge(blockFirstCall: true);
        var queue = Route(edge).Pushes;

        queue.Enqueue(Batch("a", 1));
        Assert.True(edge.FirstCallEntered.Wait(WaitLimit));
        queue.EnqueueDisconnect("a", "kicked");
        queue.Enqueue(new SendAck(5, SendOutcome.Accepted, 2));
        edge.Release();

        Assert.Equal(["push a:1", "disconnect a kicked", "push  acks 5"], await edge.WaitForCallsAsync(3));
    }

    /// <summary>Records calls as text; can hold its first call until released, so later pushes queue up meanwhile.</summary>
    private sealed class RecordingEdge(bool blockFirstCall) : IEdgeObserver
    {
        private readonly List<string> _calls = [];
        private readonly ManualResetEventSlim _release = new(!blockFirstCall);
        private int _count;

        public ManualResetEventSlim FirstCallEntered { get; } = new();

        public bool ThrowOnFirstCall { get; init; }

        public void Release() => _release.Set();

        public Task<List<string>> WaitForCallsAsync(int count) => WaitForCountAsync(_calls, count);

        public Task PushAsync(EdgePush push)
        {
            var mailboxes = string.Join(',', push.Mailboxes.Select(b => $"{b.ClientId}:{b.Messages[0].Seq}"));
            var channels = string.Join(',', push.Channels.Select(b => $"{b.Channel}:{b.Messages[0].Seq}"));
            var acks = push.Acks is { } answers ? $" acks {string.Join(',', answers.Select(a => a.Ticket))}" : "";
            return Record((channels.Length == 0 ? $"push {mailboxes}" : $"push {mailboxes} | {channels}".Replace("push  |", "push |")) + acks);
        }

        public Task DisconnectAsync(string clientId, string code) => Record($"disconnect {clientId} {code}");

        // What silos of earlier releases send: this silo must not.
        public Task DeliverAsync(MailboxBatch batch) => Record("deliver");

        public Task DeliverManyAsync(MailboxBatch[] batches) => Record("many");

        public Task DeliverPublicationsAsync(ChannelBatch batch) => Record("publish");

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
                Assert.True(_release.Wait(WaitLimit));
                if (ThrowOnFirstCall)
                {
                    throw new InvalidOperationException("edge failed");
                }
            }

            return Task.CompletedTask;
        }
    }
}
