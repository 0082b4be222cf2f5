using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using Orleans.Runtime;
using Orleans.TestingHost;
using OrleansGateway.IntegrationTests.Fixtures;
using OrleansGateway.Streams.Kafka;

using OrleansGateway.Grains;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>One mock Kafka cluster, one 6-partition topic and one 2-silo Orleans cluster for the whole class.</summary>
public sealed class KafkaStreamFixture : IAsyncLifetime
{
    public const int Partitions = 6;

    public MockKafkaCluster Kafka { get; } = new();

    public string Topic { get; } = KafkaTestKit.Unique("inbound");

    public string Group { get; } = KafkaTestKit.Unique("gateway");

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IProducer<string, byte[]> Producer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Kafka.CreateTopic(Topic, Partitions);
        Producer = KafkaTestKit.CreateProducer(Kafka.BootstrapServers);
        Cluster = await KafkaTestKit.StartClusterAsync(Kafka.BootstrapServers, Topic, Group);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Producer.Dispose();
        Kafka.Dispose();
    }
}

/// <summary>Records produced to Kafka reach the implicitly subscribed grain of their key on a 2-silo cluster.</summary>
public sealed class KafkaStreamTests : IClassFixture<KafkaStreamFixture>
{
    private readonly KafkaStreamFixture _fixture;

    public KafkaStreamTests(KafkaStreamFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task KafkaStream_RecordForClient_ReachesImplicitSubscriberWithKeyFromAndData()
    {
        var client = KafkaTestKit.Unique("client");
        var produced = await _fixture.Producer.ProduceAsync(_fixture.Topic, KafkaTestKit.Record(client, """{"text":"hi"}""", target: "client", from: "billing"));

        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.For(client).Count == 1, KafkaTestKit.Timeout, "the record");

        var record = KafkaProbe.For(client).Single();
        Assert.Equal("billing", record.From);
        Assert.Equal("""{"text":"hi"}""", Encoding.UTF8.GetString(record.Data));
        Assert.Equal(_fixture.Topic, record.Topic());
        Assert.Equal(produced.Partition.Value, record.Partition());
        Assert.Equal(produced.Offset.Value, record.Offset());
        Assert.Equal(1, await _fixture.Cluster.Client.GetGrain<IKafkaProbeGrain>(client).CountAsync());
    }

    [Fact]
    public async Task KafkaStream_RecordWithoutHeaders_GoesToClientStreamFromTopicName()
    {
        var client = KafkaTestKit.Unique("client");
        await _fixture.Producer.ProduceAsync(_fixture.Topic, KafkaTestKit.Record(client, "[1,2,3]"));

        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.For(client).Count == 1, KafkaTestKit.Timeout, "the record");

        var record = KafkaProbe.For(client).Single();
        Assert.Equal(_fixture.Topic, record.From);
        Assert.Equal("[1,2,3]", Encoding.UTF8.GetString(record.Data));
    }

    [Fact]
    public async Task KafkaStream_ManyRecordsPerKey_ArriveInProducedOrder()
    {
        const int perKey = 60;
        var clients = Enumerable.Range(0, 4).Select(_ => KafkaTestKit.Unique("ordered")).ToList();
        var sends = new List<Task>();
        for (var i = 0; i < perKey; i++)
        {
            foreach (var client in clients)
            {
                // Produce without awaiting each one: the idempotent producer keeps per-partition order.
                sends.Add(_fixture.Producer.ProduceAsync(_fixture.Topic, KafkaTestKit.Record(client, $$"""{"i":{{i}}}""")));
            }
        }

        await Task.WhenAll(sends);
        await KafkaProbe.WaitUntilAsync(() => clients.All(c => KafkaProbe.For(c).Count >= perKey), KafkaTestKit.Timeout, "every record");

        foreach (var client in clients)
        {
            var data = KafkaProbe.For(client).Select(r => Encoding.UTF8.GetString(r.Data)).ToList();
            Assert.Equal(Enumerable.Range(0, perKey).Select(i => $$"""{"i":{{i}}}"""), data);
            Assert.Single(KafkaProbe.For(client).Select(r => r.Partition()).Distinct());
        }
    }

    [Fact]
    public async Task KafkaStream_ManyKeysAcrossPartitions_AllArriveOnTheirKeysPartition()
    {
        const int keys = 60;
        const int perKey = 5;
        var clients = Enumerable.Range(0, keys).Select(_ => KafkaTestKit.Unique("spread")).ToList();
        var sends = clients.SelectMany(c => Enumerable.Range(0, perKey).Select(i => _fixture.Producer.ProduceAsync(_fixture.Topic, KafkaTestKit.Record(c, $"{i}")))).ToList();
        var produced = await Task.WhenAll(sends);

        await KafkaProbe.WaitUntilAsync(() => clients.All(c => KafkaProbe.For(c).Count >= perKey), KafkaTestKit.Timeout, "every record");

        var arrived = clients.SelectMany(KafkaProbe.For).Select(r => (r.Partition(), r.Offset())).ToHashSet();
        Assert.All(produced, p => Assert.Contains((p.Partition.Value, p.Offset.Value), arrived));
        Assert.True(produced.Select(p => p.Partition.Value).Distinct().Count() >= 3, "the keys should spread over several partitions");

        // The queue mapper's stream → queue mapping agrees with where the default (librdkafka) partitioner put each key.
        var mapper = new KafkaStreamQueueMapper(KafkaTestKit.ProviderName, [(_fixture.Topic, KafkaStreamFixture.Partitions)]);
        Assert.All(clients, c =>
            Assert.Equal(
                mapper.GetQueue(_fixture.Topic, KafkaProbe.For(c)[0].Partition()),
                mapper.GetQueueForStream(StreamId.Create(KafkaRecordRouting.ClientNamespace, c))));
    }

    [Fact]
    public async Task KafkaStream_InvalidRecord_IsSkippedCountedAndCommittedPastWithoutBlockingLaterRecords()
    {
        var client = KafkaTestKit.Unique("invalid");
        using var invalidCount = new CounterProbe("ogw.kafka.records.invalid", _fixture.Topic);
        var partition = new TopicPartition(_fixture.Topic, 0);

        await _fixture.Producer.ProduceAsync(partition, KafkaTestKit.Record(client, """{"n":1}"""));
        var invalid = await _fixture.Producer.ProduceAsync(partition, KafkaTestKit.Record(client, "this is not json"));
        var last = await _fixture.Producer.ProduceAsync(partition, KafkaTestKit.Record(client, """{"n":3}"""));

        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.For(client).Count == 2, KafkaTestKit.Timeout, "both valid records");
        Assert.Equal(["""{"n":1}""", """{"n":3}"""], KafkaProbe.For(client).Select(r => Encoding.UTF8.GetString(r.Data)));
        Assert.DoesNotContain(KafkaProbe.For(client), r => r.Offset() == invalid.Offset.Value);
        Assert.Equal(1, invalidCount.Total);

        await KafkaTestKit.EventuallyAsync(
            () => KafkaTestKit.Committed(_fixture.Kafka.BootstrapServers, _fixture.Group, partition) > last.Offset.Value,
            KafkaTestKit.Timeout,
            "the commit past the last record");
    }

    [Fact]
    public async Task KafkaStream_ConsumerFailing_LagGaugeShowsTheUndeliveredRecordThenZero()
    {
        var client = KafkaTestKit.Unique("laggy");
        KafkaProbe.FailNext(client, 20); // ~1 s of retries with the 50 ms delivery backoff
        var produced = await _fixture.Producer.ProduceAsync(_fixture.Topic, KafkaTestKit.Record(client, """{"lag":true}"""));
        using var lag = new LagProbe(_fixture.Topic, produced.Partition.Value);

        await KafkaTestKit.EventuallyAsync(() => lag.Read() >= 1, KafkaTestKit.Timeout, "a positive lag while the grain fails");
        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.For(client).Count == 1, KafkaTestKit.Timeout, "the successful delivery");
        await KafkaTestKit.EventuallyAsync(() => lag.Read() == 0, KafkaTestKit.Timeout, "the lag back to zero after the commit");
    }

    [Fact]
    public async Task KafkaStream_ConsumerFailsThreeTimes_RecordIsRedeliveredAndCommittedOnlyAfterSuccess()
    {
        var client = KafkaTestKit.Unique("flaky");
        KafkaProbe.FailNext(client, 3);
        var produced = await _fixture.Producer.ProduceAsync(_fixture.Topic, KafkaTestKit.Record(client, """{"retry":true}"""));

        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.AttemptsFor(client) >= 1, KafkaTestKit.Timeout, "the first (failing) delivery");
        var whileFailing = KafkaTestKit.Committed(_fixture.Kafka.BootstrapServers, _fixture.Group, produced.TopicPartition);

        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.For(client).Count == 1, KafkaTestKit.Timeout, "the successful delivery");
        Assert.Equal(4, KafkaProbe.AttemptsFor(client));
        Assert.True(whileFailing <= produced.Offset.Value, $"committed {whileFailing} past undelivered offset {produced.Offset.Value}");

        await KafkaTestKit.EventuallyAsync(
            () => KafkaTestKit.Committed(_fixture.Kafka.BootstrapServers, _fixture.Group, produced.TopicPartition) > produced.Offset.Value,
            KafkaTestKit.Timeout,
            "the commit after the delivery");
    }
}

/// <summary>Sums a counter of the Kafka meter for one topic (every silo's instruments).</summary>
/// <summary>Reads the current value of <c>ogw.kafka.consumer.lag</c> for one partition.</summary>
internal sealed class LagProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _topic;
    private readonly int _partition;
    private long _value = -1;

    public LagProbe(string topic, int partition)
    {
        _topic = topic;
        _partition = partition;
        _listener.InstrumentPublished = (i, listener) =>
        {
            if (i.Meter.Name == KafkaStreamMetrics.MeterName && i.Name == "ogw.kafka.consumer.lag")
            {
                listener.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? topicTag = null;
            int? partitionTag = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "topic")
                {
                    topicTag = tag.Value as string;
                }
                else if (tag.Key == "partition")
                {
                    partitionTag = tag.Value as int?;
                }
            }

            if (topicTag == _topic && partitionTag == _partition)
            {
                Interlocked.Exchange(ref _value, value);
            }
        });
        _listener.Start();
    }

    /// <summary>The latest observed lag; -1 when this silo process reports none for the partition.</summary>
    public long Read()
    {
        Interlocked.Exchange(ref _value, -1);
        _listener.RecordObservableInstruments();
        return Interlocked.Read(ref _value);
    }

    public void Dispose() => _listener.Dispose();
}

internal sealed class CounterProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public CounterProbe(string instrument, string topic)
    {
        _listener.InstrumentPublished = (i, listener) =>
        {
            if (i.Meter.Name == KafkaStreamMetrics.MeterName && i.Name == instrument)
            {
                listener.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "topic" && Equals(tag.Value, topic))
                {
                    Interlocked.Add(ref _total, value);
                }
            }
        });
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
