using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Streams;
using OrleansGateway.IntegrationTests.Fixtures;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>The partition receiver on its own against the mock cluster: commit, pause, resume. No Orleans.</summary>
public sealed class KafkaAdapterReceiverTests : IClassFixture<MockKafkaCluster>
{
    private static readonly KafkaStreamMetrics Metrics =
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    private readonly MockKafkaCluster _kafka;

    public KafkaAdapterReceiverTests(MockKafkaCluster kafka) => _kafka = kafka;

    [Fact]
    public async Task Receiver_DeliveredOutOfOrder_CommitsOnlyTheContiguousPrefix()
    {
        var (topic, group) = await ProduceAsync(10);
        var receiver = await StartAsync(topic, group);

        var read = await ReadAsync(receiver, 10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), read.Select(c => c.Token.Offset));

        await receiver.MessagesDeliveredAsync(read.Skip(2).ToList<IBatchContainer>());
        Assert.Equal(Offset.Unset.Value, Committed(topic, group));

        await receiver.MessagesDeliveredAsync(read.Take(2).ToList<IBatchContainer>());
        Assert.Equal(10, Committed(topic, group));
        await receiver.Shutdown(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Receiver_TooManyPending_PausesUntilDeliveredThenReadsOnWithoutGaps()
    {
        var (topic, group) = await ProduceAsync(30);
        var receiver = await StartAsync(topic, group, maxPending: 10, maxBatch: 5);

        var first = await ReadAsync(receiver, 10);
        Assert.Equal(10, receiver.PendingCount);
        Assert.True(receiver.IsPaused);
        Assert.Empty(await receiver.GetQueueMessagesAsync(100));

        await receiver.MessagesDeliveredAsync(first.ToList<IBatchContainer>());
        Assert.False(receiver.IsPaused);
        Assert.Equal(10, Committed(topic, group));

        var rest = new List<KafkaBatchContainer>();
        while (rest.Count < 20)
        {
            var batch = await ReadAsync(receiver, Math.Min(10, 20 - rest.Count));
            rest.AddRange(batch);
            await receiver.MessagesDeliveredAsync(batch.ToList<IBatchContainer>());
        }

        Assert.Equal(Enumerable.Range(10, 20).Select(i => (long)i), rest.Select(c => c.Token.Offset));
        Assert.Equal(30, Committed(topic, group));
        await receiver.Shutdown(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Receiver_RestartedAfterPartialDelivery_ResumesFromFirstUndeliveredRecord()
    {
        var (topic, group) = await ProduceAsync(10);
        var first = await StartAsync(topic, group);
        var read = await ReadAsync(first, 10);
        await first.MessagesDeliveredAsync(read.Take(4).ToList<IBatchContainer>());
        await first.Shutdown(TimeSpan.FromSeconds(5));
        Assert.Equal(4, Committed(topic, group));

        var second = await StartAsync(topic, group);
        var reread = await ReadAsync(second, 6);
        Assert.Equal(Enumerable.Range(4, 6).Select(i => (long)i), reread.Select(c => c.Token.Offset));
        await second.Shutdown(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Receiver_InvalidRecords_AreCommittedPastWithoutDelivery()
    {
        var topic = KafkaTestKit.Unique("rcv-invalid");
        var group = KafkaTestKit.Unique("g");
        _kafka.CreateTopic(topic, 1);
        using (var producer = KafkaTestKit.CreateProducer(_kafka.BootstrapServers))
        {
            await producer.ProduceAsync(topic, KafkaTestKit.Record("k", "not json"));
            await producer.ProduceAsync(topic, KafkaTestKit.Record("k", "{}", target: "nobody"));
            await producer.ProduceAsync(topic, KafkaTestKit.Record("k", "{\"ok\":true}"));
        }

        var receiver = await StartAsync(topic, group);
        var read = await ReadAsync(receiver, 1);
        Assert.Equal(2, read.Single().Token.Offset);
        Assert.Equal(2, Committed(topic, group));

        await receiver.MessagesDeliveredAsync([read.Single()]);
        Assert.Equal(3, Committed(topic, group));
        await receiver.Shutdown(TimeSpan.FromSeconds(5));
    }

    private async Task<(string Topic, string Group)> ProduceAsync(int count)
    {
        var topic = KafkaTestKit.Unique("rcv");
        _kafka.CreateTopic(topic, 1);
        using var producer = KafkaTestKit.CreateProducer(_kafka.BootstrapServers);
        for (var i = 0; i < count; i++)
        {
            await producer.ProduceAsync(topic, KafkaTestKit.Record($"key-{i % 3}", $"{{\"i\":{i}}}"));
        }

        return (topic, KafkaTestKit.Unique("g"));
    }

    private async Task<KafkaAdapterReceiver> StartAsync(string topic, string group, int maxPending = 2048, int maxBatch = 256)
    {
        var options = new KafkaStreamOptions
        {
            BootstrapServers = _kafka.BootstrapServers,
            Topics = [topic],
            ConsumerGroupId = group,
            FetchWaitMaxMs = 5,
            MaxPendingRecords = maxPending,
            MaxBatchSize = maxBatch,
        };
        var receiver = new KafkaAdapterReceiver(options, new TopicPartition(topic, 0), NullLogger.Instance, Metrics, TimeProvider.System);
        await receiver.Initialize(TimeSpan.FromSeconds(5));
        return receiver;
    }

    /// <summary>Reads until <paramref name="count"/> records arrived (librdkafka prefetches in the background) or fetching paused.</summary>
    private static async Task<List<KafkaBatchContainer>> ReadAsync(KafkaAdapterReceiver receiver, int count)
    {
        var read = new List<KafkaBatchContainer>();
        var deadline = DateTime.UtcNow + KafkaTestKit.Timeout;
        while (read.Count < count && !receiver.IsPaused)
        {
            var batch = await receiver.GetQueueMessagesAsync(count - read.Count);
            read.AddRange(batch.Cast<KafkaBatchContainer>());
            if (batch.Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {count} records (got {read.Count}).");
                await Task.Delay(10);
            }
        }

        return read;
    }

    private long Committed(string topic, string group) =>
        KafkaTestKit.Committed(_kafka.BootstrapServers, group, new TopicPartition(topic, 0));
}
