using System.Diagnostics.Metrics;
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

    /// <remarks>
    /// A host exports only the meters it made itself (through its own <see cref="IMeterFactory"/>) and meters made
    /// without a factory (static ones). OpenTelemetry listens to meters by name across the whole process, merges
    /// same-named instruments of several hosts into one series, and drops that series from every host's export as soon
    /// as any one of those hosts stops and disposes its meters (seen with OpenTelemetry 1.20.1: the merged counter left
    /// the export, and came back from 0 once another host started). Several hosts share a process in the integration
    /// tests (edges side by side): an edge's <c>/metrics</c> counted other edges' events, and lost its own counts
    /// whenever another edge stopped.
    /// </remarks>
    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder, params string[] meters)
    {
        var messageSizes = builder.Configuration.GetValue<bool>(MessageSizesKey);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter([GrainsMeterName, OrleansMeterName, KafkaMeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", .. meters])
            .AddPrometheusExporter());
        builder.Services.ConfigureOpenTelemetryMeterProvider((services, metrics) =>
        {
            var own = services.GetRequiredService<IMeterFactory>();
            metrics.AddView(instrument => Dropped(instrument, own, messageSizes) ? MetricStreamConfiguration.Drop : null);
        });
        builder.AddGatewayTracing();
        return builder;
    }

    /// <summary>
    /// Another host's instrument (see <see cref="AddGatewayTelemetry"/>), or one of <see cref="DroppedOrleansInstruments"/>
    /// unless <paramref name="messageSizes"/> (<see cref="MessageSizesKey"/>).
    /// </summary>
    private static bool Dropped(Instrument instrument, IMeterFactory own, bool messageSizes) =>
        (instrument.Meter.Scope is IMeterFactory factory && !ReferenceEquals(factory, own))
        || (!messageSizes && instrument.Meter.Name == OrleansMeterName && DroppedOrleansInstruments.Contains(instrument.Name));

    public static WebApplication MapGatewayMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
