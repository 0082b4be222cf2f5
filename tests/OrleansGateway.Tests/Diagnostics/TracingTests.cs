using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Hosting;
using OrleansGateway.Grains.MessageLogs;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.Tests.Diagnostics;

/// <summary>
/// With tracing off nothing is added to what the gateway pushes or produces; with it on and the span sampled, the
/// W3C context travels. One class, so its tests never overlap: the listener of one would turn tracing on for the other.
/// </summary>
[Collection(TracingListenersCollection.Name)]
public sealed class TracingTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void MessageLogAppend_TracingOffUnderASampledSpan_AddsNoTraceParent()
    {
        using var ambient = StartAmbient(recorded: true);

        var message = new MessageLog(10, TimeSpan.FromMinutes(1), TimeProvider.System).Append("a", "{}"u8.ToArray());

        Assert.Null(message.TraceParent);
    }

    [Fact]
    public void MessageLogAppend_TracingOnUnderASampledSpan_CarriesItsTraceParent()
    {
        using var listener = Listen(GrainTracing.SourceName);
        using var ambient = StartAmbient(recorded: true);

        var message = new MessageLog(10, TimeSpan.FromMinutes(1), TimeProvider.System).Append("a", "{}"u8.ToArray());

        Assert.Equal(ambient.Id, message.TraceParent);
    }

    [Fact]
    public void MessageLogAppend_TracingOnUnderAnUnsampledSpan_AddsNoTraceParent()
    {
        using var listener = Listen(GrainTracing.SourceName);
        using var ambient = StartAmbient(recorded: false);

        var message = new MessageLog(10, TimeSpan.FromMinutes(1), TimeProvider.System).Append("a", "{}"u8.ToArray());

        Assert.Null(message.TraceParent);
    }

    [Fact]
    public void KafkaStartProduce_TracingOff_AddsNoHeader()
    {
        using var ambient = StartAmbient(recorded: true);
        var headers = new Headers();

        using var span = KafkaTracing.StartProduce("up", headers);

        Assert.Null(span);
        Assert.Empty(headers);
    }

    [Fact]
    public void KafkaStartProduce_TracingOn_WritesTheProducerSpansTraceParent()
    {
        using var listener = Listen(KafkaTracing.SourceName);
        using var ambient = StartAmbient(recorded: true);
        var headers = new Headers();

        using var span = KafkaTracing.StartProduce("up", headers);

        Assert.NotNull(span);
        Assert.Equal(ambient.TraceId, span.TraceId);
        Assert.True(headers.TryGetLastBytes(KafkaTracing.TraceParentHeader, out var value));
        Assert.Equal(span.Id, Encoding.ASCII.GetString(value));
    }

    [Fact]
    public void KafkaRecordMapper_TraceParentHeader_KeptOnlyWithTracingOn()
    {
        var headers = new Headers { { KafkaTracing.TraceParentHeader, Encoding.ASCII.GetBytes(TraceParent) } };

        var off = KafkaRecordMapper.Map("t", 0, 1, "c"u8.ToArray(), headers, "{}"u8.ToArray());
        using var listener = Listen(KafkaTracing.SourceName);
        var on = KafkaRecordMapper.Map("t", 0, 1, "c"u8.ToArray(), headers, "{}"u8.ToArray());

        Assert.Null(off.Record!.TraceParent);
        Assert.Equal(TraceParent, on.Record!.TraceParent);
    }

    [Theory]
    [InlineData("IClientGrain/SendAsync", false, SamplingDecision.Drop)]
    [InlineData("IClientGrain/SendAsync", true, SamplingDecision.RecordAndSample)]
    [InlineData("send", false, SamplingDecision.RecordAndSample)]
    public void GatewaySampler_OrleansSpans_SampledOnlyInsideAGatewayTrace(string name, bool hasSampledParent, SamplingDecision expected)
    {
        var parent = hasSampledParent ? ActivityContext.Parse(TraceParent, null) : default;
        var traceId = hasSampledParent ? parent.TraceId : ActivityTraceId.CreateRandom();

        var result = new GatewaySampler(1.0).ShouldSample(new SamplingParameters(parent, traceId, name, ActivityKind.Client));

        Assert.Equal(expected, result.Decision);
    }

    [Theory]
    [InlineData("0.25", null, null, 0.25)]
    [InlineData(null, "parentbased_traceidratio", "0.1", 0.1)]
    [InlineData(null, "always_off", null, 0.0)]
    [InlineData(null, null, null, 1.0)]
    [InlineData("0.5", "always_off", null, 0.5)]
    public void GatewaySamplerRatio_ConfigurationAndStandardVariables_ConfigurationWins(string? ratio, string? sampler, string? argument, double expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Telemetry:TraceSampleRatio"] = ratio,
            ["OTEL_TRACES_SAMPLER"] = sampler ?? "",
            ["OTEL_TRACES_SAMPLER_ARG"] = argument ?? "",
        }).Build();

        Assert.Equal(expected, GatewaySampler.Ratio(configuration));
    }

    [Fact]
    public void TelemetryOptionsValidator_RatioOutsideZeroToOne_Fails()
    {
        var validator = new GatewayTelemetryOptionsValidator();

        Assert.True(validator.Validate(null, new GatewayTelemetryOptions { TraceSampleRatio = 1.5 }).Failed);
        Assert.True(validator.Validate(null, new GatewayTelemetryOptions { TraceSampleRatio = 0.5 }).Succeeded);
    }

    /// <summary>A span that is current but belongs to no gateway source, as Orleans' incoming-call span is.</summary>
    private static Activity StartAmbient(bool recorded)
    {
        var activity = new Activity("ambient").SetIdFormat(ActivityIdFormat.W3C);
        activity.ActivityTraceFlags = recorded ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None;
        return activity.Start();
    }

    private static ActivityListener Listen(string source)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
