using System.Globalization;
using Orleans.Streams;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// A position in one partition: <see cref="StreamSequenceToken.SequenceNumber"/> is the Kafka offset. Each Orleans queue
/// is exactly one partition, so offsets order every token of a queue.
/// </summary>
[GenerateSerializer, Immutable, Alias("ogw.KafkaSequenceToken")]
internal sealed class KafkaSequenceToken : StreamSequenceToken
{
    public KafkaSequenceToken(long offset, long receiverEpoch, int eventIndex = 0)
    {
        SequenceNumber = offset;
        ReceiverEpoch = receiverEpoch;
        EventIndex = eventIndex;
    }

    /// <summary>The Kafka offset of the record.</summary>
    public long Offset => SequenceNumber;

    /// <summary>Which receiver read the record (process-unique); not part of equality or order.</summary>
    [Id(2)]
    public long ReceiverEpoch { get; }

    [Id(0)]
    public override long SequenceNumber { get; protected set; }

    [Id(1)]
    public override int EventIndex { get; protected set; }

    public override bool Equals(StreamSequenceToken? other) =>
        other is not null && other.SequenceNumber == SequenceNumber && other.EventIndex == EventIndex;

    public override bool Equals(object? obj) => obj is StreamSequenceToken other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(SequenceNumber, EventIndex);

    public override int CompareTo(StreamSequenceToken? other)
    {
        if (other is null)
        {
            return 1;
        }

        var byOffset = SequenceNumber.CompareTo(other.SequenceNumber);
        return byOffset != 0 ? byOffset : EventIndex.CompareTo(other.EventIndex);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"kafka offset {SequenceNumber}.{EventIndex}");
}
