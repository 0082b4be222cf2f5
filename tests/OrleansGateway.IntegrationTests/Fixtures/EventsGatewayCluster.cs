using Confluent.Kafka;
using OrleansGateway.IntegrationTests.Kafka;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>A gateway with every lifecycle event kind turned on (silos and edges alike), on the memory stream.</summary>
public sealed class EventsGatewayCluster : GatewayCluster
{
    public EventsGatewayCluster() : base(silos: 2, edges: 1)
    {
    }

    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
        [.. base.CommonConfiguration(), new("Gateway:Events:Kinds", "Connected, Disconnected, Subscribed, Unsubscribed")];
}

/// <summary>
/// The Kafka gateway with lifecycle events on a topic of the mock cluster, every kind but <c>unsubscribed</c> turned on
/// (so its tests also show a kind that is off is not produced).
/// </summary>
public sealed class KafkaEventsGatewayCluster : KafkaGatewayCluster
{
    public string EventsTopic { get; } = KafkaTestKit.Unique("events");

    public override async Task InitializeAsync()
    {
        Kafka.CreateTopic(EventsTopic, 3);
        await base.InitializeAsync();
    }

    /// <summary>A consumer reading the events topic from its start (every partition assigned).</summary>
    public IConsumer<string, byte[]> EventsConsumer()
    {
        var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = Kafka.BootstrapServers,
            GroupId = KafkaTestKit.Unique("events-reader"),
            EnableAutoCommit = false,
            FetchWaitMaxMs = 5,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset(EventsTopic, p, Offset.Beginning)));
        return consumer;
    }

    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
    [
        .. base.CommonConfiguration(),
        new("Gateway:Events:Kinds", "Connected, Disconnected, Subscribed"),
        new("Gateway:Events:Topic", EventsTopic),
        new("Gateway:Kafka:Events:MessageTimeout", "00:00:03"),
    ];
}
