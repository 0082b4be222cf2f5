using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// Copies records the gateway could not apply (Orleans gave up delivering them, or they break the routing contract) to
/// <see cref="KafkaStreamOptions.DeadLetterTopic"/> before their partition's commit moves past them, so nothing read is
/// dropped: key, value and headers unchanged, plus headers saying where the record came from and why it is there.
/// One idempotent producer (acks=all) per provider on a silo, for the silo's lifetime; every copy is awaited until the
/// broker acknowledged it, so nothing waits in it to be flushed.
/// </summary>
internal sealed partial class KafkaDeadLetterWriter
{
    /// <summary>Why the record was dead-lettered (<c>given_up</c> or <c>invalid: …</c>).</summary>
    public const string ReasonHeader = "ogw-dlq-reason";

    /// <summary>The record's original topic, partition and offset.</summary>
    public const string TopicHeader = "ogw-dlq-topic";
    public const string PartitionHeader = "ogw-dlq-partition";
    public const string OffsetHeader = "ogw-dlq-offset";

    private readonly string _topic;
    private readonly ILogger _logger;
    private readonly KafkaStreamMetrics _metrics;
    private readonly Lazy<IProducer<byte[]?, byte[]?>> _producer;

    public KafkaDeadLetterWriter(KafkaStreamOptions options, ILogger logger, KafkaStreamMetrics metrics)
    {
        _topic = options.DeadLetterTopic!;
        _logger = logger;
        _metrics = metrics;
        _producer = new Lazy<IProducer<byte[]?, byte[]?>>(() =>
        {
            var config = new ProducerConfig();
            options.ApplyTo(config);
            config.Acks = Acks.All;
            config.EnableIdempotence = true;
            return new ProducerBuilder<byte[]?, byte[]?>(config)
                .SetLogHandler((_, message) => KafkaClientLog.Forward(_logger, message))
                .Build();
        });
    }

    public string Topic => _topic;

    /// <summary>True once the broker acknowledged the copy; false (logged) when it could not be written: retry later.</summary>
    public async Task<bool> TryWriteAsync(ConsumeResult<byte[]?, byte[]?> record, string reason, CancellationToken cancellationToken)
    {
        var headers = new Headers();
        if (record.Message.Headers is { } original)
        {
            foreach (var header in original)
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
        }

        headers.Add(ReasonHeader, Encoding.UTF8.GetBytes(reason));
        headers.Add(TopicHeader, Encoding.UTF8.GetBytes(record.Topic));
        headers.Add(PartitionHeader, Encoding.UTF8.GetBytes(record.Partition.Value.ToString(CultureInfo.InvariantCulture)));
        headers.Add(OffsetHeader, Encoding.UTF8.GetBytes(record.Offset.Value.ToString(CultureInfo.InvariantCulture)));
        try
        {
            await _producer.Value.ProduceAsync(_topic, new Message<byte[]?, byte[]?> { Key = record.Message.Key, Value = record.Message.Value, Headers = headers }, cancellationToken);
            _metrics.RecordDeadLettered(record.Topic);
            Log.DeadLettered(_logger, record.Topic, record.Partition.Value, record.Offset.Value, _topic, reason);
            return true;
        }
        catch (Exception exception) when (exception is KafkaException or OperationCanceledException)
        {
            Log.DeadLetterFailed(_logger, exception, record.Topic, record.Partition.Value, record.Offset.Value, _topic);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(60, LogLevel.Warning, "Record {Topic}/{Partition}@{Offset} copied to dead-letter topic {DeadLetterTopic} ({Reason}); committing past it.", EventName = "KafkaRecordDeadLettered")]
        public static partial void DeadLettered(ILogger logger, string topic, int partition, long offset, string deadLetterTopic, string reason);

        [LoggerMessage(61, LogLevel.Error, "Copying record {Topic}/{Partition}@{Offset} to dead-letter topic {DeadLetterTopic} failed; the commit stays behind it and the copy is retried.", EventName = "KafkaDeadLetterFailed")]
        public static partial void DeadLetterFailed(ILogger logger, Exception exception, string topic, int partition, long offset, string deadLetterTopic);
    }
}
