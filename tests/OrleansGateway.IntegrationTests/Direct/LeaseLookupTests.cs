using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Direct;

[Collection(GatewayCollection.Name)]
public sealed class LeaseLookupTests(GatewayCluster cluster)
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A silo re-reads an edge's lease when its cached copy runs out (a TTL, 3 s here). When that call is lost (a silo
    /// stopping mid-call: Orleans answers it only with its 30 s response timeout), messages to the edge's clients must
    /// not wait for it: before the fix every grain on the silo pushing to that edge stalled, and the recipients'
    /// mailboxes overflowed their retention meanwhile (the rolling-restart loss).
    /// </summary>
    [Fact]
    public async Task Send_LeaseLookupOfRecipientsEdgeNeverAnswers_AcknowledgedAndDeliveredPromptly()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var edge = cluster.Edges[0];
        await using var bob = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"bob-{run}"));
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"alice-{run}"));
        await bob.WaitForFrameAsync("welcome");
        var edgeId = cluster.EdgeId(edge);
        using var stall = CallStallFilter.Arm(nameof(IEdgeGrain.GetLeaseAsync), edgeId);

        var sent = 0;
        async Task SendOneAsync()
        {
            var reply = await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":{{++sent}}}""", Prompt);
            Assert.Equal("ok", reply.Type());
        }

        // Until the cached lease ran out and a lookup hangs; then more, which must not queue behind it.
        await GatewayClusterExtensions.EventuallyAsync(
            async () =>
            {
                await SendOneAsync();
                return CallStallFilter.Stalled(nameof(IEdgeGrain.GetLeaseAsync), edgeId) > 0;
            },
            GatewayCluster.LeaseTtl * 5,
            "a lease lookup of bob's edge to hang");
        for (var i = 0; i < 10; i++)
        {
            await SendOneAsync();
        }

        await bob.WaitForMessagesAsync(sent, Prompt);
        Assert.Equal(Enumerable.Range(1, sent).Select(i => i.ToString()), bob.Messages.Select(m => m.GetProperty("data").GetRawText()));
        Assert.False(bob.Closed);
    }
}
