using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Providers.Streams.Common;
using Orleans.Streams;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// Builds the Kafka stream provider's parts. The partition counts are looked up once, on first use (while the silo
/// starts), so every queue maps to one partition.
/// </summary>
internal sealed partial class KafkaAdapterFactory : IQueueAdapterFactory
{
    private readonly string _name;
    private readonly KafkaStreamOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly KafkaStreamMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly SimpleQueueAdapterCache _cache;
    private readonly Lazy<KafkaStreamQueueMapper> _mapper;
    private readonly Lazy<KafkaAdapter> _adapter;

    public KafkaAdapterFactory(string name, KafkaStreamOptions options, ILoggerFactory loggerFactory, KafkaStreamMetrics metrics, TimeProvider timeProvider)
    {
        _name = name;
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<KafkaAdapterFactory>();
        _metrics = metrics;
        _timeProvider = timeProvider;
        _cache = new SimpleQueueAdapterCache(new SimpleQueueCacheOptions { CacheSize = options.CacheSize }, name, loggerFactory);
        _mapper = new Lazy<KafkaStreamQueueMapper>(CreateMapper);
        _adapter = new Lazy<KafkaAdapter>(() => new KafkaAdapter(_name, _options, _mapper.Value, _loggerFactory, _metrics, _timeProvider));
    }

    /// <summary>The factory Orleans calls for provider <paramref name="name"/> (<c>AddPersistentStreams(name, Create, …)</c>).</summary>
    public static IQueueAdapterFactory Create(IServiceProvider services, string name) =>
        new KafkaAdapterFactory(
            name,
            services.GetOptionsByName<KafkaStreamOptions>(name),
            services.GetRequiredService<ILoggerFactory>(),
            services.GetRequiredService<KafkaStreamMetrics>(),
            services.GetService<TimeProvider>() ?? TimeProvider.System);

    [Obsolete("Required by IQueueAdapterFactory.")]
    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(_adapter.Value);

    public IQueueAdapterCache GetQueueAdapterCache() => _cache;

    public IStreamQueueMapper GetStreamQueueMapper() => _mapper.Value;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) =>
        Task.FromResult<IStreamFailureHandler>(new KafkaDeliveryFailureHandler(() => _adapter.Value.GetReceiver(queueId)));

    private KafkaStreamQueueMapper CreateMapper()
    {
        var config = new AdminClientConfig();
        _options.ApplyTo(config);
        var counts = new List<(string Topic, int Partitions)>();
        try
        {
            using var admin = new AdminClientBuilder(config).SetLogHandler((_, message) => KafkaClientLog.Forward(_logger, message)).Build();
            foreach (var topic in _options.Topics)
            {
                var metadata = admin.GetMetadata(topic, _options.MetadataTimeout);
                var found = metadata.Topics.SingleOrDefault(t => t.Topic == topic);
                if (found is null || found.Error.IsError || found.Partitions.Count == 0)
                {
                    var reason = found is null ? "not in the metadata" : found.Error.IsError ? found.Error.Reason : "no partitions";
                    throw new KafkaStreamException($"Kafka stream provider '{_name}': topic '{topic}' is unusable ({reason}).");
                }

                counts.Add((topic, found.Partitions.Count));
            }
        }
        catch (KafkaException exception)
        {
            throw new KafkaStreamException($"Kafka stream provider '{_name}' could not read topic metadata from {_options.BootstrapServers}: {exception.Error.Reason}", exception);
        }

        var mapper = new KafkaStreamQueueMapper(_name, counts);
        Log.Partitions(_logger, _name, string.Join(", ", counts.Select(c => $"{c.Topic}×{c.Partitions}")), _options.ConsumerGroupId);
        return mapper;
    }
}
