using Orleans.Runtime;
using Orleans.Streams;

using OrleansGateway.Grains;

namespace OrleansGateway.Streams.Kafka;

/// <summary>One Kafka record as Orleans carries it: the stream it belongs to, its event, and its offset token.</summary>
[GenerateSerializer, Immutable, Alias("ogw.KafkaBatchContainer")]
internal sealed class KafkaBatchContainer : IBatchContainer
{
    public KafkaBatchContainer(StreamId streamId, InboundMessage record, KafkaSequenceToken token)
    {
        StreamId = streamId;
        Record = record;
        Token = token;
    }

    [Id(0)]
    public StreamId StreamId { get; }

    [Id(1)]
    public InboundMessage Record { get; }

    [Id(2)]
    public KafkaSequenceToken Token { get; }

    public StreamSequenceToken SequenceToken => Token;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>()
    {
        if (Record is T item)
        {
            yield return Tuple.Create<T, StreamSequenceToken>(item, Token);
        }
    }

    public bool ImportRequestContext() => false;

    public override string ToString() => $"{StreamId} {Record.Source}@{Record.Position}";
}
