using System.Globalization;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;

namespace OrleansGateway.Hosting;

/// <summary>
/// The gateway's sampler: parent-based on a trace-id ratio, and never a root span of Orleans' own. Traces worth
/// keeping start at the gateway's spans (a frame, an attach, a drain, a Kafka record); a grain call that starts a
/// trace by itself is Orleans' housekeeping (stream polling, timers, statistics, lease renewals: several per second per
/// silo) and would drown them. Orleans names its spans <c>IInterface/Method</c>; the gateway's names have no slash.
/// </summary>
public sealed class GatewaySampler(double ratio) : Sampler
{
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);

    private readonly Sampler _inner = new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio));

    /// <summary>
    /// The ratio: <c>Gateway:Telemetry:TraceSampleRatio</c>; when unset, the standard <c>OTEL_TRACES_SAMPLER</c>
    /// (<c>always_off</c> and <c>parentbased_always_off</c> → 0; <c>traceidratio</c> and
    /// <c>parentbased_traceidratio</c> → <c>OTEL_TRACES_SAMPLER_ARG</c>); else 1, the OpenTelemetry default.
    /// </summary>
    public static double Ratio(IConfiguration configuration)
    {
        if (configuration.GetSection(GatewayTelemetryOptions.SectionName).Get<GatewayTelemetryOptions>()?.TraceSampleRatio is { } configured)
        {
            return configured;
        }

        var sampler = configuration["OTEL_TRACES_SAMPLER"] ?? Environment.GetEnvironmentVariable("OTEL_TRACES_SAMPLER");
        var argument = configuration["OTEL_TRACES_SAMPLER_ARG"] ?? Environment.GetEnvironmentVariable("OTEL_TRACES_SAMPLER_ARG");
        return sampler?.Trim().ToLowerInvariant() switch
        {
            "always_off" or "parentbased_always_off" => 0,
            "traceidratio" or "parentbased_traceidratio" when double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r is >= 0 and <= 1 => r,
            _ => 1,
        };
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.ParentContext.TraceId == default && samplingParameters.Name.Contains('/', StringComparison.Ordinal)
            ? Drop
            : _inner.ShouldSample(samplingParameters);
}
