namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>A gateway with tracing on (Orleans' activity propagation on silos and edges) and its spans recorded.</summary>
public sealed class TracingGatewayCluster : GatewayCluster
{
    public TracingGatewayCluster() => Recorder = new();
}

/// <summary>The Kafka gateway with tracing on and its spans recorded.</summary>
public sealed class TracingKafkaGatewayCluster : KafkaGatewayCluster
{
    public TracingKafkaGatewayCluster() => Recorder = new();
}

[CollectionDefinition(Name)]
public sealed class TracingCollection : ICollectionFixture<TracingGatewayCluster>
{
    public const string Name = "tracing";
}
