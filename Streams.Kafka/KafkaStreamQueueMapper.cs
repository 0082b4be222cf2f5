using System.IO.Hashing;
using Confluent.Kafka;
using Orleans.Runtime;
using Orleans.Streams;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// One Orleans queue per Kafka partition: queue <c>i</c> is the <c>i</c>-th (topic, partition) in ordinal topic order,
/// spread evenly over the consistent ring so Orleans' default queue balancer can place it. Every silo computes the same
/// mapping from the same topic list and partition counts.
/// </summary>
internal sealed class KafkaStreamQueueMapper : IConsistentRingStreamQueueMapper
{
    private const long RingSize = (long)uint.MaxValue + 1;

    private readonly QueueId[] _queues;
    private readonly Dictionary<QueueId, TopicPartition> _partitions;
    private readonly Dictionary<string, QueueId[]> _queuesByTopic;
    private readonly string _firstTopic;

    /// <param name="providerName">Queue name prefix (the stream provider name).</param>
    /// <param name="partitionCounts">Partition count of each topic, in the configured topic order.</param>
    public KafkaStreamQueueMapper(string providerName, IReadOnlyList<(string Topic, int Partitions)> partitionCounts)
    {
        if (partitionCounts.Count == 0 || partitionCounts.Any(p => p.Partitions < 1))
        {
            throw new ArgumentException("Every topic needs at least one partition.", nameof(partitionCounts));
        }

        _firstTopic = partitionCounts[0].Topic;
        var all = partitionCounts
            .OrderBy(p => p.Topic, StringComparer.Ordinal)
            .SelectMany(p => Enumerable.Range(0, p.Partitions).Select(i => new TopicPartition(p.Topic, new Partition(i))))
            .ToList();

        var portion = RingSize / all.Count;
        _queues = new QueueId[all.Count];
        _partitions = new Dictionary<QueueId, TopicPartition>(all.Count);
        for (var i = 0; i < all.Count; i++)
        {
            _queues[i] = QueueId.GetQueueId(providerName, (uint)i, (uint)(portion * i));
            _partitions.Add(_queues[i], all[i]);
        }

        _queuesByTopic = all.Select((tp, i) => (tp, i)).GroupBy(x => x.tp.Topic, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(x => x.tp.Partition.Value).Select(x => _queues[x.i]).ToArray(), StringComparer.Ordinal);
    }

    public IEnumerable<QueueId> GetAllQueues() => _queues;

    public IEnumerable<QueueId> GetQueuesForRange(IRingRange range) =>
        _queues.Where(q => range.InRange(q.GetUniformHashCode())).ToList();

    /// <summary>The partition a queue reads.</summary>
    public TopicPartition GetPartition(QueueId queueId) =>
        _partitions.TryGetValue(queueId, out var partition)
            ? partition
            : throw new ArgumentOutOfRangeException(nameof(queueId), queueId, "Not a queue of this Kafka stream provider.");

    /// <summary>The queue that reads <paramref name="topic"/>/<paramref name="partition"/>.</summary>
    public QueueId GetQueue(string topic, int partition) => _queuesByTopic[topic][partition];

    /// <summary>
    /// The queue of the partition that a record keyed with the stream's key lands on in the first configured topic, assuming
    /// the librdkafka default partitioner (<c>consistent_random</c>: CRC-32 of the key modulo the partition count).
    /// Records with the same key always share one partition, hence one queue, whichever partitioner the producer uses;
    /// this provider is read-only, so Orleans only calls this for diagnostics.
    /// </summary>
    public QueueId GetQueueForStream(StreamId streamId) =>
        GetQueue(_firstTopic, LibrdkafkaDefaultPartition(streamId.Key.Span, _queuesByTopic[_firstTopic].Length));

    /// <summary>librdkafka's <c>consistent_random</c> partitioner for a non-empty key: CRC-32 (IEEE) modulo the partition count.</summary>
    internal static int LibrdkafkaDefaultPartition(ReadOnlySpan<byte> key, int partitionCount) =>
        (int)(Crc32.HashToUInt32(key) % (uint)partitionCount);
}
