using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace OrleansGateway.Hosting;

/// <summary>Metrics for edges and silos: our meters and Orleans' own, exposed for Prometheus at <c>/metrics</c>.</summary>
public static class GatewayTelemetryExtensions
{
    /// <summary>
    /// The grains' meter (<c>GrainMetrics.MeterName</c> in Grains, named here because hosting does not reference the
    /// grain implementations; a unit test keeps the two equal).
    /// </summary>
    public const string GrainsMeterName = "OrleansGateway.Silo";

    /// <summary>Orleans' own meter (messaging, grains, membership).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>The Kafka stream provider (Streams.Kafka) and the edge's upstream producer.</summary>
    public const string KafkaMeterName = "OrleansGateway.Streams.Kafka";

    /// <summary>
    /// Orleans' per-message size histograms, not exported: Orleans records each only while a listener enables it, and
    /// each message sent or received costs one record with two or three tags (direction, connection, silo address),
    /// i.e. several records per delivered message on every silo and edge. Byte totals stay available through
    /// Orleans' header-bytes counters.
    /// </summary>
    /// <remarks>
    /// <see cref="MessageSizesKey"/> = true exports them anyway, for diagnosing hops (bench/hops counts the messages per
    /// connection kind from them: client to gateway, silo to silo).
    /// </remarks>
    internal static readonly string[] DroppedOrleansInstruments =
        ["orleans-messaging-sent-messages-size", "orleans-messaging-received-messages-size"];

    /// <summary>Configuration key: export Orleans' per-message size histograms (off by default: see <see cref="DroppedOrleansInstruments"/>).</summary>
    public const string MessageSizesKey = "Gateway:Telemetry:MessageSizes";

    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder, params string[] meters)
    {
        var messageSizes = builder.Configuration.GetValue<bool>(MessageSizesKey);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter([GrainsMeterName, OrleansMeterName, KafkaMeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", .. meters])
            .AddView(instrument => !messageSizes && instrument.Meter.Name == OrleansMeterName && DroppedOrleansInstruments.Contains(instrument.Name)
                ? MetricStreamConfiguration.Drop
                : null)
            .AddPrometheusExporter());
        builder.AddGatewayTracing();
        return builder;
    }

    public static WebApplication MapGatewayMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
