using System.Text;
using Confluent.Kafka;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.Grains.LifecycleEventKinds;

namespace OrleansGateway.IntegrationTests.Events;

/// <summary>Lifecycle events on Kafka (librdkafka's mock cluster): the silos' producer, read back by a plain consumer.</summary>
public sealed class KafkaLifecycleEventTests(KafkaEventsGatewayCluster cluster) : IClassFixture<KafkaEventsGatewayCluster>
{
    [Fact]
    public async Task KafkaEvents_ConnectSubscribeUnsubscribeClose_KeyedByClientInOrderWithoutTheKindTurnedOff()
    {
        var erin = $"erin-{Guid.NewGuid():N}"[..13];
        var channel = $"room:{erin}";
        await using (var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256(erin)))
        {
            await client.WaitForFrameAsync("welcome");
            Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
            Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"unsub","id":"$id","ch":"{{channel}}"}""")).Type());
            await client.CloseAsync();
        }

        // Unsubscribed is off in this cluster: had it been produced, it would sit before the disconnected on erin's partition.
        var records = await Task.Run(() => ConsumeOf(erin, 3));
        var events = records.Select(r => LifecycleEventJson.TryRead(r.Message.Value, out var e) ? e! : throw new InvalidOperationException("unreadable event")).ToList();
        Assert.Equal([Connected, Subscribed, Disconnected], events.Select(e => e.Kind));
        Assert.Single(records.Select(r => r.Partition.Value).Distinct());
        Assert.Equal(["connected", "subscribed", "disconnected"], records.Select(r => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("ogw-event"))));
        Assert.Equal(channel, events[1].Channel);
        Assert.Equal(("normal", (int?)1000), (events[2].Reason, events[2].Code));
    }

    private List<ConsumeResult<string, byte[]>> ConsumeOf(string clientId, int count)
    {
        using var consumer = cluster.EventsConsumer();
        var records = new List<ConsumeResult<string, byte[]>>();
        var deadline = DateTime.UtcNow + TestClient.DefaultTimeout;
        while (records.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{count} events of {clientId} on the topic within {TestClient.DefaultTimeout} (have {records.Count})");
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } record && record.Message.Key == clientId)
            {
                records.Add(record);
            }
        }

        return records;
    }
}
