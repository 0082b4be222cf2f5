using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// W3C trace context on Kafka records (header <see cref="TraceParentHeader"/>), both ways, and the producer's span
/// (source <see cref="SourceName"/>). With tracing off nothing is added to a record and nothing is read from one beyond
/// one <see cref="ActivitySource.HasListeners"/> check.
/// </summary>
public static class KafkaTracing
{
    public const string SourceName = "OrleansGateway.Streams.Kafka";

    /// <summary>The W3C Trace Context header, as the OpenTelemetry Kafka conventions carry it.</summary>
    public const string TraceParentHeader = "traceparent";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts a producer span for a record to <paramref name="topic"/> and writes its <c>traceparent</c> into
    /// <paramref name="headers"/>; null (and no header) when tracing is off or the span is not sampled.
    /// </summary>
    public static Activity? StartProduce(string topic, Headers headers)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var span = Source.StartActivity($"{topic} publish", ActivityKind.Producer);
        if (span is { Recorded: true })
        {
            span.SetTag("messaging.system", "kafka");
            span.SetTag("messaging.destination.name", topic);
            headers.Add(TraceParentHeader, Encoding.ASCII.GetBytes(span.Id!));
        }

        return span;
    }

    /// <summary>The record's <c>traceparent</c> header when tracing is on and it has one; else null.</summary>
    public static string? ReadTraceParent(Headers? headers)
    {
        if (headers is null || !Source.HasListeners() || !headers.TryGetLastBytes(TraceParentHeader, out var bytes) || bytes is null)
        {
            return null;
        }

        // 55 characters for version 00; a longer value is a future version or garbage, and is not ours to keep.
        return bytes.Length is >= 55 and <= 128 ? Encoding.ASCII.GetString(bytes) : null;
    }
}
