using System.Diagnostics;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Kafka;

public sealed class KafkaOutageTests(KafkaGatewayCluster cluster) : IClassFixture<KafkaGatewayCluster>
{
    [Fact]
    public async Task Up_AllBrokersDown_ErrUnavailableThenOkAndInboundResumesWhenBack()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"c-{run}"));
        Assert.Equal("ok", (await client.RequestAsync("""{"t":"up","id":"$id","topic":"orders","data":1}""")).Type());

        cluster.Kafka.AllBrokersDown();
        try
        {
            var watch = Stopwatch.StartNew();
            var err = await client.RequestAsync("""{"t":"up","id":"$id","topic":"orders","data":2}""", TimeSpan.FromSeconds(20));
            Assert.Equal("err", err.Type());
            Assert.Equal("unavailable", err.GetProperty("code").GetString());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"answered after {watch.Elapsed}"); // MessageTimeout is 3 s
            Assert.Equal("pong", (await client.RequestAsync("""{"t":"ping","id":"$id"}""")).Type()); // the connection stays
        }
        finally
        {
            cluster.Kafka.AllBrokersUp();
        }

        await GatewayClusterExtensions.EventuallyAsync(async () =>
            (await client.RequestAsync("""{"t":"up","id":"$id","topic":"orders","data":3}""", TimeSpan.FromSeconds(20))).Type() == "ok",
            TimeSpan.FromSeconds(60), "up to succeed after the brokers return");

        // Inbound consumption recovered too: a backend record reaches the client.
        await cluster.Producer.ProduceAsync(cluster.InboundTopic, KafkaTestKit.Record($"c-{run}", """{"after":"outage"}""", target: "client", from: "ops"));
        var message = await client.WaitForFrameAsync("msg", TimeSpan.FromSeconds(30));
        Assert.Equal("outage", message.GetProperty("data").GetProperty("after").GetString());
    }
}
