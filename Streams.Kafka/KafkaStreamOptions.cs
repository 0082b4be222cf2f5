using System.Text;
using Confluent.Kafka;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// The Kafka stream provider: which topics feed the <c>ogw.client</c> / <c>ogw.channel</c> streams and how they are read.
/// Named per provider (<c>AddKafkaStreams(name, …)</c>); bind from <see cref="SectionName"/> if configured from files.
/// </summary>
public sealed class KafkaStreamOptions : KafkaClientOptions
{
    public const string SectionName = "Gateway:Kafka:Streams";

    /// <summary>Default for <see cref="FetchWaitMaxMs"/>: 100 ms.</summary>
    public const int DefaultFetchWaitMaxMs = 100;

    /// <summary>Default for <see cref="MaxBatchSize"/>: 256 records.</summary>
    public const int DefaultMaxBatchSize = 256;

    /// <summary>Default for <see cref="MaxPendingRecords"/>: 2048 records per partition.</summary>
    public const int DefaultMaxPendingRecords = 2048;

    /// <summary>Default for <see cref="CacheSize"/>: 4096 batches per partition (Orleans' <c>SimpleQueueCacheOptions</c> default).</summary>
    public const int DefaultCacheSize = 4096;

    /// <summary>Default for <see cref="QueuedMaxMessagesKbytes"/>: 4096 KiB per consumer.</summary>
    public const int DefaultQueuedMaxMessagesKbytes = 4096;

    /// <summary>Default for <see cref="AutoOffsetReset"/>: <see cref="Confluent.Kafka.AutoOffsetReset.Earliest"/>.</summary>
    public const AutoOffsetReset DefaultAutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest;

    /// <summary>Default for <see cref="CommitAttempts"/>: 3.</summary>
    public const int DefaultCommitAttempts = 3;

    /// <summary>Default for <see cref="MetadataTimeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultMetadataTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Default for <see cref="CommitRetryBackoff"/>: 200 ms.</summary>
    public static readonly TimeSpan DefaultCommitRetryBackoff = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Topics to read. Every partition of every topic becomes one Orleans queue; the partition counts are read
    /// once when the silo starts, so all silos must see the same topics and counts. Required, at least one.
    /// </summary>
    public IList<string> Topics { get; set; } = new List<string>();

    /// <summary>
    /// Consumer group whose committed offsets say where each partition resumes. The provider never joins the group
    /// (Orleans' queue balancer places partitions); it only commits to it. Required; one per gateway deployment.
    /// </summary>
    public string ConsumerGroupId { get; set; } = string.Empty;

    /// <summary>librdkafka <c>fetch.wait.max.ms</c>: how long a broker may hold an empty fetch. Default <see cref="DefaultFetchWaitMaxMs"/>.</summary>
    public int FetchWaitMaxMs { get; set; } = DefaultFetchWaitMaxMs;

    /// <summary>Most records handed to Orleans per read of one partition. Default <see cref="DefaultMaxBatchSize"/>.</summary>
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>
    /// Records read from one partition but not yet delivered; at this many the partition's fetching is paused, and it
    /// resumes at half. Default <see cref="DefaultMaxPendingRecords"/>.
    /// </summary>
    public int MaxPendingRecords { get; set; } = DefaultMaxPendingRecords;

    /// <summary>Orleans queue cache size per partition (batches). Default <see cref="DefaultCacheSize"/>.</summary>
    public int CacheSize { get; set; } = DefaultCacheSize;

    /// <summary>librdkafka <c>queued.max.messages.kbytes</c>: the prefetch bound per consumer. Default <see cref="DefaultQueuedMaxMessagesKbytes"/>.</summary>
    public int QueuedMaxMessagesKbytes { get; set; } = DefaultQueuedMaxMessagesKbytes;

    /// <summary>Where a partition starts when <see cref="ConsumerGroupId"/> has no committed offset for it. Default <see cref="DefaultAutoOffsetReset"/>.</summary>
    public AutoOffsetReset AutoOffsetReset { get; set; } = DefaultAutoOffsetReset;

    /// <summary>
    /// Where records the gateway cannot apply go before the commit moves past them: records Orleans gave up delivering
    /// (<c>MaxEventDeliveryTime</c>) and records that break the routing contract. Empty (default): such records are
    /// logged, counted and committed past. Set: each is copied here first (acks=all); while the copy fails, the
    /// partition's commit stays behind it, so no record read is ever dropped.
    /// </summary>
    public string? DeadLetterTopic { get; set; }

    /// <summary>How long the partition lookup at silo start may take. Default <see cref="DefaultMetadataTimeout"/>.</summary>
    public TimeSpan MetadataTimeout { get; set; } = DefaultMetadataTimeout;

    /// <summary>Attempts per offset commit before it is left for the next delivery. Default <see cref="DefaultCommitAttempts"/>.</summary>
    public int CommitAttempts { get; set; } = DefaultCommitAttempts;

    /// <summary>Pause after a failed commit attempt, multiplied by the attempt number. Default <see cref="DefaultCommitRetryBackoff"/>.</summary>
    public TimeSpan CommitRetryBackoff { get; set; } = DefaultCommitRetryBackoff;

    private protected override void Describe(StringBuilder text) =>
        text.Append("Topics = [").AppendJoin(", ", Topics).Append("], ")
            .Append("ConsumerGroupId = ").Append(ConsumerGroupId).Append(", ")
            .Append("FetchWaitMaxMs = ").Append(FetchWaitMaxMs).Append(", ")
            .Append("MaxBatchSize = ").Append(MaxBatchSize).Append(", ")
            .Append("MaxPendingRecords = ").Append(MaxPendingRecords).Append(", ")
            .Append("CacheSize = ").Append(CacheSize).Append(", ")
            .Append("QueuedMaxMessagesKbytes = ").Append(QueuedMaxMessagesKbytes).Append(", ")
            .Append("AutoOffsetReset = ").Append(AutoOffsetReset).Append(", ")
            .Append("MetadataTimeout = ").Append(MetadataTimeout).Append(", ")
            .Append("CommitAttempts = ").Append(CommitAttempts).Append(", ")
            .Append("CommitRetryBackoff = ").Append(CommitRetryBackoff).Append(", ");

    /// <summary>The consumer configuration for one partition's receiver.</summary>
    internal ConsumerConfig ToConsumerConfig()
    {
        var config = new ConsumerConfig();
        ApplyTo(config);
        config.GroupId = ConsumerGroupId;
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.AutoOffsetReset = AutoOffsetReset;
        config.FetchWaitMaxMs = FetchWaitMaxMs;
        config.QueuedMaxMessagesKbytes = QueuedMaxMessagesKbytes;
        config.AllowAutoCreateTopics = false;
        config.EnablePartitionEof = false;
        return config;
    }
}
