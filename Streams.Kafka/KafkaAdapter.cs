using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// Read-only queue adapter: Kafka records become stream events; grains cannot publish to these streams
/// (backends write to Kafka instead).
/// </summary>
internal sealed class KafkaAdapter : IQueueAdapter
{
    private readonly KafkaStreamOptions _options;
    private readonly KafkaStreamQueueMapper _mapper;
    private readonly ILoggerFactory _loggerFactory;
    private readonly KafkaStreamMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly KafkaDeadLetterWriter? _deadLetters;
    private readonly ConcurrentDictionary<QueueId, KafkaAdapterReceiver> _receivers = new();

    public KafkaAdapter(
        string name, KafkaStreamOptions options, KafkaStreamQueueMapper mapper, ILoggerFactory loggerFactory, KafkaStreamMetrics metrics, TimeProvider timeProvider)
    {
        _deadLetters = string.IsNullOrEmpty(options.DeadLetterTopic)
            ? null
            : new KafkaDeadLetterWriter(options, loggerFactory.CreateLogger($"{typeof(KafkaDeadLetterWriter).FullName}.{name}"), metrics);
        Name = name;
        _options = options;
        _mapper = mapper;
        _loggerFactory = loggerFactory;
        _metrics = metrics;
        _timeProvider = timeProvider;
    }

    public string Name { get; }

    public bool IsRewindable => false;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadOnly;

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId)
    {
        var partition = _mapper.GetPartition(queueId);
        var logger = _loggerFactory.CreateLogger($"{typeof(KafkaAdapterReceiver).FullName}.{Name}");
        var receiver = new KafkaAdapterReceiver(_options, partition, logger, _metrics, _timeProvider, _deadLetters);
        _receivers[queueId] = receiver;
        return receiver;
    }

    /// <summary>The current receiver of a queue on this silo, if any (for the delivery failure handler).</summary>
    public KafkaAdapterReceiver? GetReceiver(QueueId queueId) => _receivers.GetValueOrDefault(queueId);

    public Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext) =>
        throw new NotSupportedException($"Stream provider '{Name}' is read-only: produce records to Kafka instead (docs/kafka.md).");
}
