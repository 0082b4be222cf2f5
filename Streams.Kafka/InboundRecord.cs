namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// One Kafka record delivered on an <c>ogw.client</c> or <c>ogw.channel</c> stream.
/// Delivery is at-least-once: a record can arrive again after a silo restart (same <see cref="Topic"/>,
/// <see cref="Partition"/> and <see cref="Offset"/>), so consumers that must not show duplicates de-duplicate on them.
/// </summary>
/// <param name="From">The backend's name shown to clients as <c>from</c>: header <c>ogw-from</c>, else the topic name.</param>
/// <param name="Data">The record value: one valid JSON value as raw UTF-8, passed through untouched.</param>
/// <param name="Topic">The Kafka topic the record was read from.</param>
/// <param name="Partition">The Kafka partition the record was read from.</param>
/// <param name="Offset">The record's offset in its partition.</param>
[GenerateSerializer, Immutable, Alias("ogw.InboundRecord")]
public sealed record InboundRecord(
    [property: Id(0)] string From,
    [property: Id(1)] byte[] Data,
    [property: Id(2)] string Topic,
    [property: Id(3)] int Partition,
    [property: Id(4)] long Offset);
