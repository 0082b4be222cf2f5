using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// Lifecycle events to the Kafka topic <see cref="GatewayEventsOptions.Topic"/>: key = client id (so one client's events
/// share a partition, in order), value = <see cref="LifecycleEventJson"/>, header <c>ogw-event</c> = the kind (consumers
/// may filter without parsing). One idempotent producer per silo, built on first use.
/// </summary>
internal sealed partial class KafkaLifecycleEventPublisher : ILifecycleEventPublisher, IDisposable
{
    /// <summary>Header carrying the event kind (<c>connected</c>, …).</summary>
    public const string KindHeader = "ogw-event";

    private readonly KafkaEventsOptions _options;
    private readonly string _topic;
    private readonly ILogger<KafkaLifecycleEventPublisher> _logger;
    private readonly Lazy<IProducer<byte[], byte[]>> _producer;

    public KafkaLifecycleEventPublisher(IOptions<KafkaEventsOptions> options, IOptions<GatewayEventsOptions> events, ILogger<KafkaLifecycleEventPublisher> logger)
    {
        _options = options.Value;
        _topic = events.Value.Topic;
        _logger = logger;
        _producer = new Lazy<IProducer<byte[], byte[]>>(() => new ProducerBuilder<byte[], byte[]>(_options.ToProducerConfig())
            .SetErrorHandler((_, error) => Log.ClientError(_logger, _topic, error.Code, error.Reason, error.IsFatal))
            .SetLogHandler((_, message) => KafkaClientLog.Forward(_logger, message))
            .Build());
    }

    public async Task PublishAsync(LifecycleEvent e)
    {
        var message = new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(e.ClientId),
            Value = LifecycleEventJson.ToUtf8(e),
            Headers = new Headers { { KindHeader, Encoding.UTF8.GetBytes(LifecycleEvents.Name(e.Kind)) } },
        };
        try
        {
            // librdkafka expires the record after message.timeout.ms, checked about once a second: bound the wait exactly.
            await _producer.Value.ProduceAsync(_topic, message).WaitAsync(_options.MessageTimeout);
        }
        catch (KafkaException exception)
        {
            // Not carried as inner exception: the caller only logs it, and third-party exceptions stay out of grain code.
            throw new KafkaStreamException($"Kafka did not take the lifecycle event on '{_topic}': {exception.Error.Code} {exception.Error.Reason}");
        }
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            _producer.Value.Flush(_options.MessageTimeout);
            _producer.Value.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1510, LogLevel.Warning, "Lifecycle event producer for {Topic}: {Code} {Reason} (fatal: {Fatal}).", EventName = "KafkaEventsClientError")]
        public static partial void ClientError(ILogger logger, string topic, Confluent.Kafka.ErrorCode code, string reason, bool fatal);
    }
}
