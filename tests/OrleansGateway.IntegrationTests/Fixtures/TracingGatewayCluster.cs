namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>A gateway with tracing on (Orleans' activity propagation on silos and edges) and its spans recorded.</summary>
public sealed class TracingGatewayCluster : GatewayCluster
{
    public SpanRecorder Recorder { get; } = new();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Recorder.Dispose();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
        [.. base.CommonConfiguration(), SpanRecorder.TracingSetting];
}

/// <summary>The Kafka gateway with tracing on and its spans recorded.</summary>
public sealed class TracingKafkaGatewayCluster : KafkaGatewayCluster
{
    public SpanRecorder Recorder { get; } = new();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Recorder.Dispose();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
        [.. base.CommonConfiguration(), SpanRecorder.TracingSetting];
}

[CollectionDefinition(Name)]
public sealed class TracingCollection : ICollectionFixture<TracingGatewayCluster>
{
    public const string Name = "tracing";
}
