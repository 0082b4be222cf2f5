using System.Diagnostics;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// The grains' spans (source <see cref="SourceName"/>) and the trace context they hand to edges. A client's send
/// reaches the grain inside Orleans' incoming-call span (activity propagation), so the appended message only records
/// that span's <c>traceparent</c>; a backend record from Kafka gets a span here, parented on the record's header.
/// </summary>
public static class GrainTracing
{
    public const string SourceName = "OrleansGateway.Grains";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The current span's W3C <c>traceparent</c> when it is sampled, else null: with tracing off this is one
    /// <see cref="ActivitySource.HasListeners"/> check and adds nothing to the pushed message.
    /// </summary>
    public static string? CurrentTraceParent() =>
        Source.HasListeners() && Activity.Current is { Recorded: true, IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>A span for a backend message accepted from an inbound stream; null when tracing is off.</summary>
    public static Activity? StartInbound(string kind, InboundMessage message)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // The stream's pulling agent may leave its own context current; the record's producer is the real parent.
        ActivityContext.TryParse(message.TraceParent, null, isRemote: true, out var parent);
        var span = Source.StartActivity($"inbound {kind}", ActivityKind.Consumer, parent);
        if (span is { IsAllDataRequested: true } && message.Source is not null)
        {
            span.SetTag("ogw.source", message.Source);
            span.SetTag("ogw.position", message.Position);
        }

        return span;
    }
}
