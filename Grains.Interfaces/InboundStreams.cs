namespace OrleansGateway.Grains;

/// <summary>
/// Streams that carry backend messages into the gateway (Kafka records, or memory streams in the embedded
/// default), on stream provider <see cref="UpstreamStreams.ProviderName"/>. The stream key is the client id
/// or channel name; client and channel grains subscribe implicitly.
/// </summary>
public static class InboundStreams
{
    /// <summary>Namespace whose stream key is a client id: each message goes to that client's mailbox.</summary>
    public const string ClientNamespace = "ogw.client";

    /// <summary>Namespace whose stream key is a channel name: each message is published on that channel.</summary>
    public const string ChannelNamespace = "ogw.channel";
}

/// <summary>A backend's message for one client or channel.</summary>
/// <param name="From">The backend's name, shown to clients as <c>from</c>.</param>
/// <param name="Data">Raw UTF-8 JSON.</param>
/// <param name="Source">Where it came from, for de-duplication of redeliveries (Kafka: <c>topic/partition</c>); null when the source never redelivers.</param>
/// <param name="Position">Position in <paramref name="Source"/> (Kafka: the offset); increasing per source.</param>
[GenerateSerializer, Immutable, Alias("ogw.InboundMessage")]
public sealed record InboundMessage(
    [property: Id(0)] string From,
    [property: Id(1)] byte[] Data,
    [property: Id(2)] string? Source = null,
    [property: Id(3)] long Position = 0)
{
    /// <summary>
    /// The W3C <c>traceparent</c> the record came with (Kafka header <c>traceparent</c>), so the grain's span continues
    /// the producer's trace; null when it had none. Last and optional, so peers built before it still read the record.
    /// </summary>
    [Id(4)]
    public string? TraceParent { get; init; }
}
