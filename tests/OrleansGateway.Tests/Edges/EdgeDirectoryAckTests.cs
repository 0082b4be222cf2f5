using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;
using static OrleansGateway.Tests.Edges.EdgeTestKit;

namespace OrleansGateway.Tests.Edges;

/// <summary>
/// Answers to one-way sends leave through the push to the sender's edge: a known route's queue, or a route made from
/// the edge's lease when no grain of the silo pushes to that edge yet.
/// </summary>
public sealed class EdgeDirectoryAckTests
{
    private int _lookups;

    [Fact]
    public async Task Acknowledge_EdgeAlreadyRouted_PushedThroughItsQueueWithoutALookup()
    {
        var edge = new AckRecorder();
        var directory = Directory(_ => { _lookups++; return new TaskCompletionSource<EdgeLease>().Task; }, TimeProvider.System);
        directory.Track("edge-1", edge, adopt: true, new TestGrain("a"));

        directory.Acknowledge("edge-1", new SendAck(4, SendOutcome.Accepted, 9));

        Assert.Equal([new SendAck(4, SendOutcome.Accepted, 9)], await edge.WaitForAcksAsync(1));
        Assert.Equal(0, _lookups);
    }

    [Fact]
    public async Task Acknowledge_EdgeNotRoutedHere_RouteMadeFromItsLeaseAndKept()
    {
        var edge = new AckRecorder();
        var directory = Directory(_ => { Interlocked.Increment(ref _lookups); return Task.FromResult(new EdgeLease(edge, DateTimeOffset.UtcNow.AddMinutes(1))); }, TimeProvider.System);

        directory.Acknowledge("edge-2", new SendAck(1, SendOutcome.Accepted, 1));
        await edge.WaitForAcksAsync(1);
        directory.Acknowledge("edge-2", new SendAck(2, SendOutcome.Accepted, 2));

        Assert.Equal([1L, 2L], (await edge.WaitForAcksAsync(2)).Select(a => a.Ticket));
        Assert.Equal(1, _lookups); // the second answer used the route the first one made
        Assert.Equal("edge-2", Assert.Single(directory.Routes).EdgeId);
    }

    [Fact]
    public async Task Acknowledge_EdgeWithoutALease_NoRouteMade()
    {
        var looked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var directory = Directory(
            _ =>
            {
                looked.TrySetResult();
                return Task.FromResult(new EdgeLease(null, DateTimeOffset.MinValue));
            },
            TimeProvider.System);

        directory.Acknowledge("gone", new SendAck(1, SendOutcome.Accepted, 1));
        await looked.Task.WaitAsync(WaitLimit);

        // The lookup answered synchronously, so Acknowledge was done with it when it returned.
        Assert.Empty(directory.Routes);
    }
}
