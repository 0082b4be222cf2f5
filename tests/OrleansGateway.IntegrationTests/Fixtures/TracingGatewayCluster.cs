using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using OrleansGateway.Grains.Hosting;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A gateway with tracing on (<c>Gateway:Telemetry:Tracing</c>: Orleans' activity propagation on silos and edges) and
/// one OpenTelemetry tracer provider for the whole test process, with the product's sampler at ratio 1, that keeps every finished span.
/// One provider, not one per host: all hosts share the process's activity sources, so per-host exporters would each see
/// every span.
/// </summary>
public sealed class TracingGatewayCluster : GatewayCluster
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private TracerProvider? _tracer;

    /// <summary>Every span finished so far, in the order they ended.</summary>
    public IReadOnlyList<Activity> Spans => _spans.ToArray();

    public override async Task InitializeAsync()
    {
        _tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(GatewayTracingExtensions.TracedSources)
            .SetSampler(new GatewaySampler(1.0))
            .AddProcessor(new KeepProcessor(_spans))
            .Build();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _tracer?.Dispose();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
        [.. base.CommonConfiguration(), new("Gateway:Telemetry:Tracing", "true")];

    private sealed class KeepProcessor(ConcurrentQueue<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => spans.Enqueue(data);
    }
}

[CollectionDefinition(Name)]
public sealed class TracingCollection : ICollectionFixture<TracingGatewayCluster>
{
    public const string Name = "tracing";
}
