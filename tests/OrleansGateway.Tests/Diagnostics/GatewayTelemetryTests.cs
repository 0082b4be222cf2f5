using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OrleansGateway.Hosting;

namespace OrleansGateway.Tests.Diagnostics;

public sealed class GatewayTelemetryTests
{
    [Fact]
    public async Task AddGatewayTelemetry_OrleansPerMessageSizeHistograms_NotEnabledSoOrleansSkipsRecording()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.AddGatewayTelemetry();
        await using var app = builder.Build();
        _ = app.Services.GetRequiredService<MeterProvider>(); // the provider starts listening when resolved

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
    public void AddGatewayTelemetry_MeterNames_AreTheOnesGrainsAndKafkaEmitOn() =>
        Assert.Equal(
            [OrleansGateway.Grains.Edges.GrainMetrics.MeterName, OrleansGateway.Streams.Kafka.KafkaStreamMetrics.MeterName],
            [GatewayTelemetryExtensions.GrainsMeterName, GatewayTelemetryExtensions.KafkaMeterName]);
}
