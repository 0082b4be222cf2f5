using Confluent.Kafka;
using OrleansGateway.IntegrationTests.Kafka;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// The gateway with Kafka as the broker to backends, against librdkafka's mock cluster (3 brokers, real Kafka
/// protocol on loopback): silos consume the inbound topic, edges produce <c>up</c> frames to the upstream topic.
/// </summary>
public class KafkaGatewayCluster : GatewayCluster
{
    public KafkaGatewayCluster() : base(silos: 2, edges: 2)
    {
    }

    public MockKafkaCluster Kafka { get; } = new();

    public string InboundTopic { get; } = KafkaTestKit.Unique("inbound");

    public string UpstreamTopic { get; } = KafkaTestKit.Unique("upstream");

    public IProducer<string, byte[]> Producer { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Kafka.CreateTopic(InboundTopic, 6);
        Kafka.CreateTopic(UpstreamTopic, 3);
        Producer = KafkaTestKit.CreateProducer(Kafka.BootstrapServers);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Producer.Dispose();
        Kafka.Dispose();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
    [
        .. base.CommonConfiguration(),
        new("Gateway:Kafka:Streams:BootstrapServers", Kafka.BootstrapServers),
        new("Gateway:Kafka:Streams:Topics:0", InboundTopic),
        new("Gateway:Kafka:Streams:ConsumerGroupId", $"gw-{ClusterId}"),
        new("Gateway:Kafka:Streams:FetchWaitMaxMs", "5"), // the mock answers an empty fetch only after this long
        new("Gateway:Kafka:Upstream:BootstrapServers", Kafka.BootstrapServers),
        new("Gateway:Kafka:Upstream:Topic", UpstreamTopic),
        new("Gateway:Kafka:Upstream:MessageTimeout", "00:00:03"),
    ];
}
