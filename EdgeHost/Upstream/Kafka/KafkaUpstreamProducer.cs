using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.EdgeHost.Upstream.Kafka;

/// <summary>
/// Produces client <c>up</c> frames to the upstream topic: key = client id, headers <c>ogw-client</c> and <c>ogw-topic</c>
/// (and <c>ogw-key</c>, the frame's idempotency key, when it has one), value = the frame's data. Idempotent, <c>acks=all</c>; <see cref="ProduceAsync"/> completes only once Kafka acknowledged.
/// Thread-safe singleton; register with <c>AddKafkaUpstreamProducer</c>.
/// </summary>
internal sealed partial class KafkaUpstreamProducer : IDisposable
{
    private readonly KafkaUpstreamOptions _options;
    private readonly ILogger<KafkaUpstreamProducer> _logger;
    private readonly Counter<long> _produced;
    private readonly Counter<long> _failed;
    private readonly Lock _lock = new();
    private IProducer<byte[], byte[]>? _producer;
    private bool _disposed;

    public KafkaUpstreamProducer(IOptions<KafkaUpstreamOptions> options, ILogger<KafkaUpstreamProducer> logger, IMeterFactory meterFactory)
    {
        _options = options.Value;
        _logger = logger;
        var meter = meterFactory.Create(KafkaStreamMetrics.MeterName);
        _produced = meter.CreateCounter<long>("ogw.kafka.upstream.produced", "{record}", "Upstream records acknowledged by Kafka.");
        _failed = meter.CreateCounter<long>("ogw.kafka.upstream.failed", "{record}", "Upstream records Kafka did not acknowledge in time.");
    }

    /// <summary>
    /// Writes one <c>up</c> frame to the upstream topic and waits for Kafka's acknowledgement, at most
    /// <see cref="KafkaUpstreamOptions.MessageTimeout"/>.
    /// </summary>
    /// <param name="clientId">The sending client's id: the record key and header <c>ogw-client</c>.</param>
    /// <param name="topic">The frame's <c>topic</c>: header <c>ogw-topic</c>.</param>
    /// <param name="data">The frame's <c>data</c>, raw UTF-8 JSON: the record value.</param>
    /// <param name="cancellationToken">Stops waiting; the record may still be written.</param>
    /// <exception cref="UpstreamUnavailableException">Kafka did not acknowledge in time or refused the record.</exception>
    public Task ProduceAsync(string clientId, string topic, byte[] data, CancellationToken cancellationToken) =>
        ProduceAsync(clientId, topic, data, null, cancellationToken);

    /// <summary>As <see cref="ProduceAsync(string, string, byte[], CancellationToken)"/>, with the frame's idempotency key in header <c>ogw-key</c>.</summary>
    /// <param name="clientId">The sending client's id.</param>
    /// <param name="topic">The frame's <c>topic</c>.</param>
    /// <param name="data">The frame's <c>data</c>.</param>
    /// <param name="key">The frame's idempotency key, or null for none (no header).</param>
    /// <param name="cancellationToken">Stops waiting; the record may still be written.</param>
    public async Task ProduceAsync(string clientId, string topic, byte[] data, string? key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(data);

        var clientIdBytes = Encoding.UTF8.GetBytes(clientId);
        var message = new Message<byte[], byte[]>
        {
            Key = clientIdBytes,
            Value = data,
            Headers = new Headers
            {
                { KafkaRecordRouting.UpstreamClientHeader, clientIdBytes },
                { KafkaRecordRouting.UpstreamTopicHeader, Encoding.UTF8.GetBytes(topic) },
            },
        };

        if (key is not null)
        {
            message.Headers.Add(KafkaRecordRouting.UpstreamKeyHeader, Encoding.UTF8.GetBytes(key));
        }

        using var span = KafkaTracing.StartProduce(_options.Topic, message.Headers);
        var producer = GetProducer();
        try
        {
            // librdkafka expires the record after message.timeout.ms, checked about once a second: bound the wait exactly.
            var result = await producer.ProduceAsync(_options.Topic, message, cancellationToken)
                .WaitAsync(_options.MessageTimeout, cancellationToken);
            _produced.Add(1, new TagList { { "topic", _options.Topic } });
            Log.Produced(_logger, _options.Topic, result.Partition.Value, result.Offset.Value);
        }
        catch (ProduceException<byte[], byte[]> exception)
        {
            throw Unavailable(producer, exception.Error, exception);
        }
        catch (KafkaException exception)
        {
            throw Unavailable(producer, exception.Error, exception);
        }
        catch (TimeoutException exception)
        {
            _failed.Add(1, new TagList { { "topic", _options.Topic } });
            Log.TimedOut(_logger, _options.Topic, _options.MessageTimeout);
            throw new UpstreamUnavailableException($"Kafka did not acknowledge the record on '{_options.Topic}' within {_options.MessageTimeout}.", exception);
        }
    }

    public void Dispose()
    {
        IProducer<byte[], byte[]>? producer;
        lock (_lock)
        {
            _disposed = true;
            producer = _producer;
            _producer = null;
        }

        if (producer is not null)
        {
            producer.Flush(_options.MessageTimeout);
            producer.Dispose();
        }
    }

    private IProducer<byte[], byte[]> GetProducer()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_producer is null)
            {
                try
                {
                    _producer = new ProducerBuilder<byte[], byte[]>(_options.ToProducerConfig())
                        .SetErrorHandler((_, error) => Log.ClientError(_logger, _options.Topic, error.Code, error.Reason, error.IsFatal))
                        .SetLogHandler((_, message) => KafkaClientLog.Forward(_logger, message))
                        .Build();
                }
                catch (KafkaException exception)
                {
                    throw new UpstreamUnavailableException($"Could not create the Kafka producer for '{_options.Topic}': {exception.Error.Reason}", exception);
                }
            }

            return _producer;
        }
    }

    private UpstreamUnavailableException Unavailable(IProducer<byte[], byte[]> producer, Error error, Exception exception)
    {
        _failed.Add(1, new TagList { { "topic", _options.Topic } });
        Log.ProduceFailed(_logger, _options.Topic, error.Code, error.Reason);
        if (error.IsFatal)
        {
            // An idempotent producer cannot continue after a fatal error: the next call builds a new one.
            lock (_lock)
            {
                if (ReferenceEquals(_producer, producer))
                {
                    _producer = null;
                }
            }

            producer.Dispose();
        }

        return new UpstreamUnavailableException($"Kafka did not accept the record on '{_options.Topic}': {error.Reason}", exception);
    }
}
