namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// The record → stream contract shared by backends (producers) and the gateway (consumer); see <c>docs/kafka.md</c>.
/// </summary>
public static class KafkaRecordRouting
{
    /// <summary>Stream namespace of a client's inbound stream; the stream key is the client id.</summary>
    public const string ClientNamespace = OrleansGateway.Grains.InboundStreams.ClientNamespace;

    /// <summary>Stream namespace of a channel's inbound stream; the stream key is the channel name.</summary>
    public const string ChannelNamespace = OrleansGateway.Grains.InboundStreams.ChannelNamespace;

    /// <summary>Record header naming the target kind: <see cref="TargetClient"/> (default when absent) or <see cref="TargetChannel"/>.</summary>
    public const string TargetHeader = "ogw-target";

    /// <summary>Record header with the backend name shown to clients as <c>from</c>; defaults to the topic name.</summary>
    public const string FromHeader = "ogw-from";

    /// <summary><see cref="TargetHeader"/> value: the record key is a client id.</summary>
    public const string TargetClient = "client";

    /// <summary><see cref="TargetHeader"/> value: the record key is a channel name.</summary>
    public const string TargetChannel = "channel";

    /// <summary>Upstream record header: the id of the client that sent the <c>up</c> frame (also the record key).</summary>
    public const string UpstreamClientHeader = "ogw-client";

    /// <summary>Upstream record header: the <c>topic</c> of the client's <c>up</c> frame.</summary>
    public const string UpstreamTopicHeader = "ogw-topic";

    /// <summary>Header of an upstream record: the sender's idempotency key (present only when the <c>up</c> frame had one); consumers de-duplicate by (<c>ogw-client</c>, <c>ogw-key</c>).</summary>
    public const string UpstreamKeyHeader = "ogw-key";

    /// <summary>The <see cref="OrleansGateway.Grains.InboundMessage.Source"/> of a record: <c>topic/partition</c> (grains de-duplicate redeliveries per source by offset).</summary>
    public static string Source(string topic, int partition) => $"{topic}/{partition}";
}
