using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrleansGateway.Streams.Kafka;

/// <summary>Counters of the Kafka stream provider, tagged with the topic. The upstream producer shares <see cref="MeterName"/>.</summary>
internal sealed class KafkaStreamMetrics
{
    /// <summary>The meter of the stream provider and the upstream producer.</summary>
    public const string MeterName = "OrleansGateway.Streams.Kafka";

    private readonly Counter<long> _recordsRead;
    private readonly Counter<long> _recordsInvalid;
    private readonly Counter<long> _recordsGivenUp;
    private readonly Counter<long> _recordsDeadLettered;
    private readonly Counter<long> _commits;
    private readonly Counter<long> _commitFailures;
    private readonly ConcurrentDictionary<(string Topic, int Partition), long> _lag = new();

    public KafkaStreamMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _recordsRead = meter.CreateCounter<long>("ogw.kafka.records.read", "{record}", "Valid records read and handed to Orleans.");
        _recordsInvalid = meter.CreateCounter<long>("ogw.kafka.records.invalid", "{record}", "Records skipped because they break the routing contract.");
        _recordsGivenUp = meter.CreateCounter<long>("ogw.kafka.records.given_up", "{record}", "Records Orleans failed to deliver within MaxEventDeliveryTime.");
        _recordsDeadLettered = meter.CreateCounter<long>("ogw.kafka.records.dead_lettered", "{record}", "Given-up or invalid records copied to the dead-letter topic before the commit moved past them.");
        _commits = meter.CreateCounter<long>("ogw.kafka.commits", "{commit}", "Offset commits that succeeded.");
        _commitFailures = meter.CreateCounter<long>("ogw.kafka.commit.failures", "{commit}", "Offset commits that failed after every attempt.");
        meter.CreateObservableGauge("ogw.kafka.consumer.lag", ObserveLag, "{record}",
            "Records in a partition read by this silo that no grain has accepted yet (high watermark - committed position).");
    }

    public void RecordRead(string topic) => _recordsRead.Add(1, Tag(topic));

    public void RecordInvalid(string topic) => _recordsInvalid.Add(1, Tag(topic));

    public void RecordGivenUp(string topic) => _recordsGivenUp.Add(1, Tag(topic));

    public void RecordDeadLettered(string topic) => _recordsDeadLettered.Add(1, Tag(topic));

    public void Commit(string topic) => _commits.Add(1, Tag(topic));

    public void CommitFailed(string topic) => _commitFailures.Add(1, Tag(topic));

    public void SetLag(string topic, int partition, long lag) => _lag[(topic, partition)] = lag;

    public void RemoveLag(string topic, int partition) => _lag.TryRemove((topic, partition), out _);

    private IEnumerable<Measurement<long>> ObserveLag() =>
        _lag.Select(e => new Measurement<long>(e.Value, new KeyValuePair<string, object?>("topic", e.Key.Topic), new KeyValuePair<string, object?>("partition", e.Key.Partition)));

    private static TagList Tag(string topic) => new() { { "topic", topic } };
}
