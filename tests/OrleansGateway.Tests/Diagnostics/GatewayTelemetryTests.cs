using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OrleansGateway.Hosting;

namespace OrleansGateway.Tests.Diagnostics;

public sealed class GatewayTelemetryTests
{
    /// <summary>A host with the gateway's telemetry, its meter provider listening (it starts when resolved).</summary>
    private static WebApplication Listening()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.AddGatewayTelemetry();
        var app = builder.Build();
        _ = app.Services.GetRequiredService<MeterProvider>();
        return app;
    }

    [Fact]
    public async Task AddGatewayTelemetry_OrleansPerMessageSizeHistograms_NotEnabledSoOrleansSkipsRecording()
    {
        await using var app = Listening();

        using var meter = new Meter(GatewayTelemetryExtensions.OrleansMeterName);
        var sent = meter.CreateHistogram<int>(GatewayTelemetryExtensions.DroppedOrleansInstruments[0], "bytes");
        var received = meter.CreateHistogram<int>(GatewayTelemetryExtensions.DroppedOrleansInstruments[1], "bytes");
        var kept = meter.CreateCounter<int>("orleans-gateway-received");

        Assert.False(sent.Enabled);
        Assert.False(received.Enabled);
        Assert.True(kept.Enabled);
    }

    [Fact]
    public async Task AddGatewayTelemetry_MessageSizesConfigured_OrleansPerMessageSizeHistogramsExported()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration[GatewayTelemetryExtensions.MessageSizesKey] = "true";
        builder.AddGatewayTelemetry();
        await using var app = builder.Build();
        _ = app.Services.GetRequiredService<MeterProvider>();

        using var meter = new Meter(GatewayTelemetryExtensions.OrleansMeterName);
        var sent = meter.CreateHistogram<int>(GatewayTelemetryExtensions.DroppedOrleansInstruments[0], "bytes");
        var received = meter.CreateHistogram<int>(GatewayTelemetryExtensions.DroppedOrleansInstruments[1], "bytes");

        Assert.True(sent.Enabled);
        Assert.True(received.Enabled);
    }

    [Fact]
    public async Task AddGatewayTelemetry_AnotherHostsMeterOfTheSameName_NotListenedToOwnAndStaticOnesAre()
    {
        await using var app = Listening();
        using var otherHost = new ServiceCollection().AddMetrics().BuildServiceProvider(); // no exporter of its own

        using var own = app.Services.GetRequiredService<IMeterFactory>().Create(GatewayTelemetryExtensions.GrainsMeterName);
        using var others = otherHost.GetRequiredService<IMeterFactory>().Create(GatewayTelemetryExtensions.GrainsMeterName);
        using var shared = new Meter(GatewayTelemetryExtensions.GrainsMeterName);

        // Listened to, the other host's instrument would join this host's series, and its disposal (that host
        // stopping) would drop the series from this host's /metrics.
        Assert.False(others.CreateCounter<long>("c").Enabled);
        Assert.True(own.CreateCounter<long>("c").Enabled);
        Assert.True(shared.CreateCounter<long>("c").Enabled);
    }

    [Fact]
    public void AddGatewayTelemetry_MeterNames_AreTheOnesGrainsAndKafkaEmitOn() =>
        Assert.Equal(
            [OrleansGateway.Grains.Edges.GrainMetrics.MeterName, OrleansGateway.Streams.Kafka.KafkaStreamMetrics.MeterName],
            [GatewayTelemetryExtensions.GrainsMeterName, GatewayTelemetryExtensions.KafkaMeterName]);
}
