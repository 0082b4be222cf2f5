using Microsoft.Extensions.Logging.Abstractions;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;
using static OrleansGateway.Tests.Edges.EdgeTestKit;

namespace OrleansGateway.Tests.Edges;

/// <summary>
/// The silo's entry for an edge's batched sends: each send goes to its recipient's grain, in order, with the sender's
/// edge as where the answer goes; one that cannot be passed on is answered <c>Unavailable</c> through the edge's push
/// while the rest of the batch still goes.
/// </summary>
public sealed class SendIngressTests
{
    [Fact]
    public async Task SendMany_ABatch_EachSendToItsRecipientInOrderWithTheEdgeAndTicket()
    {
        var calls = new List<string>();
        var ingress = new SendIngress(to => new RecipientGrain(to, calls), Directory(), NullLogger.Instance);

        await ingress.SendManyAsync("edge-1", [Send("bob", 1), Send("carol", 2, key: "k"), Send("bob", 3)]);

        Assert.Equal(["bob alice edge-1 1 -", "carol alice edge-1 2 k", "bob alice edge-1 3 -"], calls);
    }

    [Fact]
    public async Task SendMany_OneRecipientFailsAtOnceAnotherLater_BothAnsweredUnavailableAndTheRestPassedOn()
    {
        var calls = new List<string>();
        var edge = new AckRecorder();
        var directory = Directory();
        directory.Track("edge-1", edge, adopt: true, new TestGrain("a"));
        var ingress = new SendIngress(
            to => to switch
            {
                "broken" => throw new InvalidOperationException("no placement"),
                "late" => new RecipientGrain(to, calls, fault: true),
                _ => new RecipientGrain(to, calls),
            },
            directory,
            NullLogger.Instance);

        await ingress.SendManyAsync("edge-1", [Send("broken", 1), Send("bob", 2), Send("late", 3)]);

        var acks = await edge.WaitForAcksAsync(2);
        Assert.Equal([1L, 3L], acks.Select(a => a.Ticket).Order());
        Assert.All(acks, a => Assert.Equal(SendOutcome.Unavailable, a.Outcome));
        Assert.Contains("bob alice edge-1 2 -", calls);
    }

    private static OutboundSend Send(string to, long ticket, string? key = null) => new(to, "alice", [1], key, ticket);

    /// <summary>A recipient grain that records the one-way sends it is given, or fails them after they were queued.</summary>
    private sealed class RecipientGrain(string id, List<string> calls, bool fault = false) : IClientSessionGrain
    {
        public Task SendOneWayAsync(string from, byte[] data, string? key, string edgeId, long ticket)
        {
            if (fault)
            {
                return FailLaterAsync();
            }

            lock (calls)
            {
                calls.Add($"{id} {from} {edgeId} {ticket} {key ?? "-"}");
            }

            return Task.CompletedTask;
        }

        private static async Task FailLaterAsync()
        {
            await Task.Yield();
            throw new InvalidOperationException("the message could not be sent");
        }

        public Task<StreamReplay> AttachAsync(string edgeId, IEdgeObserver edge, long sessionId, long? lastSeq, int maxSessions) => throw new NotSupportedException();

        public Task DetachAsync(string edgeId, long sessionId) => throw new NotSupportedException();

        public Task DetachAsync(string edgeId, long sessionId, string reason, int? code) => throw new NotSupportedException();

        public Task ChannelChangedAsync(string edgeId, long sessionId, string channel, bool subscribed) => throw new NotSupportedException();

        public Task<StreamReplay> ReadSinceAsync(long afterSeq) => throw new NotSupportedException();

        public Task RepushLastAsync() => throw new NotSupportedException();

        public Task<long> SendAsync(string from, byte[] data) => throw new NotSupportedException();

        public Task<Accepted> SendOnceAsync(string from, byte[] data, string key) => throw new NotSupportedException();

        public Task<bool> WasUpstreamProducedAsync(string topic, string key, ulong hash) => throw new NotSupportedException();

        public Task UpstreamProducedAsync(string topic, string key, ulong hash) => throw new NotSupportedException();

        public Task<int> DisconnectAsync(string code) => throw new NotSupportedException();

        public Task<Presence> GetPresenceAsync() => throw new NotSupportedException();
    }
}
