using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Channels;

[Collection(GatewayCollection.Name)]
public sealed class ChannelCallTimeoutTests(GatewayCluster cluster)
{
    /// <summary>
    /// The edge subscribes to a channel grain under the channel's lock; a call whose answer a stopping silo lost (the
    /// Orleans client waits 30 s for it) must neither hold the <c>sub</c> nor the channel's other subscribers that long.
    /// </summary>
    [Fact]
    public async Task Sub_ChannelGrainNeverAnswers_ErrUnavailableThenTheRetriedSubGetsPublications()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var channel = $"room:{run}";
        await using var subscriber = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"s-{run}"));
        await using var publisher = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"p-{run}"));

        using (CallStallFilter.Arm(nameof(IChannelSubscriptionGrain.SubscribeEdgeAsync), channel, count: 1))
        {
            var stalled = await subscriber.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""", GatewayCluster.EdgeCallTimeout * 3);
            Assert.Equal("err", stalled.Type());
            Assert.Equal("unavailable", stalled.GetProperty("code").GetString());
            Assert.Equal(1, CallStallFilter.Stalled(nameof(IChannelSubscriptionGrain.SubscribeEdgeAsync), channel));

            Assert.Equal("ok", (await subscriber.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
            Assert.Equal("ok", (await publisher.RequestAsync($$"""{"t":"pub","id":"$id","ch":"{{channel}}","data":"one"}""")).Type());
            await subscriber.WaitUntilAsync(frames => frames.Any(f => f.Type() == "pub"), what: "the publication");
            Assert.Equal("\"one\"", subscriber.Frames.Single(f => f.Type() == "pub").GetProperty("data").GetRawText());
        }
    }
}
