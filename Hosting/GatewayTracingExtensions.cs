using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Orleans.Diagnostics;

namespace OrleansGateway.Hosting;

/// <summary>
/// Traces and OTLP for edges and silos. With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, traces, metrics and logs go out
/// over OTLP (the standard <c>OTEL_EXPORTER_OTLP_*</c> variables apply) beside the Prometheus endpoint. Tracing is on
/// when that variable is set or <c>Gateway:Telemetry:Tracing</c> is true; otherwise nothing listens to the gateway's
/// sources, Orleans' activity propagation is not installed, and a message pays one <c>HasListeners()</c> check.
/// </summary>
public static class GatewayTracingExtensions
{
    /// <summary>The standard OTLP endpoint variable (also read from configuration).</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Sources traced: the gateway's own (<c>OrleansGateway.EdgeHost</c>, <c>OrleansGateway.Grains</c>,
    /// <c>OrleansGateway.Streams.Kafka</c>) and Orleans' grain calls. Orleans files a call under its runtime source
    /// when the grain interface's namespace starts with "Orleans", which ours (<c>OrleansGateway.Grains</c>) does, so
    /// that source is needed for our own grain calls; Orleans' lifecycle and storage sources are left out.
    /// </summary>
    public static readonly string[] TracedSources =
        ["OrleansGateway.*", ActivitySources.ApplicationGrainActivitySourceName, ActivitySources.RuntimeActivitySourceName];

    /// <summary>True when this process traces: <c>Gateway:Telemetry:Tracing</c>, by default whether an OTLP endpoint is set.</summary>
    public static bool IsTracingEnabled(this IConfiguration configuration) =>
        configuration.GetSection(GatewayTelemetryOptions.SectionName).Get<GatewayTelemetryOptions>()?.Tracing
            ?? !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey] ?? Environment.GetEnvironmentVariable(OtlpEndpointKey));

    /// <summary>Tracing (when enabled) and the OTLP exporter (when an endpoint is set) for this host.</summary>
    public static WebApplicationBuilder AddGatewayTracing(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOptions<GatewayTelemetryOptions>().BindConfiguration(GatewayTelemetryOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<GatewayTelemetryOptions>, GatewayTelemetryOptionsValidator>();
        var otel = builder.Services.AddOpenTelemetry();
        if (configuration.IsTracingEnabled())
        {
            var ratio = GatewaySampler.Ratio(configuration);
            otel.WithTracing(tracing => tracing.AddSource(TracedSources).SetSampler(new GatewaySampler(ratio)));
        }

        if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]))
        {
            otel.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>Orleans' activity propagation on this silo's grain calls, when tracing is on (a grain call filter otherwise paid per call).</summary>
    public static ISiloBuilder AddGatewayTracing(this ISiloBuilder silo, IConfiguration configuration) =>
        configuration.IsTracingEnabled() ? silo.AddActivityPropagation() : silo;

    /// <summary>Orleans' activity propagation on this client's grain calls, when tracing is on.</summary>
    public static IClientBuilder AddGatewayTracing(this IClientBuilder client, IConfiguration configuration) =>
        configuration.IsTracingEnabled() ? client.AddActivityPropagation() : client;
}

/// <summary>Tracing settings. Section <c>Gateway:Telemetry</c>.</summary>
public sealed class GatewayTelemetryOptions
{
    public const string SectionName = "Gateway:Telemetry";

    /// <summary>Trace this process. Default: on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
    public bool? Tracing { get; set; }

    /// <summary>
    /// Fraction of new traces sampled (0 to 1), parent-based: a span whose parent was sampled is sampled. Default:
    /// unset, so the standard <c>OTEL_TRACES_SAMPLER</c> and <c>OTEL_TRACES_SAMPLER_ARG</c> apply (ratio samplers and
    /// <c>always_off</c>; see <see cref="GatewaySampler.Ratio"/>), and without them every trace is sampled.
    /// </summary>
    public double? TraceSampleRatio { get; set; }
}

internal sealed class GatewayTelemetryOptionsValidator : IValidateOptions<GatewayTelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayTelemetryOptions options) =>
        options.TraceSampleRatio is { } ratio && (double.IsNaN(ratio) || ratio < 0 || ratio > 1)
            ? ValidateOptionsResult.Fail($"{GatewayTelemetryOptions.SectionName}:TraceSampleRatio must be between 0 and 1 (was {ratio}).")
            : ValidateOptionsResult.Success;
}
