using Confluent.Kafka;
using Orleans.Runtime;
using Orleans.Streams;
using OrleansGateway.EdgeHost.Upstream.Kafka;
using OrleansGateway.Streams.Kafka;

using OrleansGateway.Grains;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>Options, validators, the offset tracker and the queue mapper, without Kafka or Orleans.</summary>
public sealed class KafkaProviderPartsTests
{
    [Fact]
    public void KafkaStreamOptionsValidator_EverythingWrong_ReportsEveryFailure()
    {
        var options = new KafkaStreamOptions
        {
            Topics = ["a", "a", " "],
            FetchWaitMaxMs = -1,
            MaxBatchSize = 0,
            MaxPendingRecords = -1,
            CacheSize = 1,
            QueuedMaxMessagesKbytes = 0,
            MetadataTimeout = TimeSpan.Zero,
            CommitAttempts = 0,
            CommitRetryBackoff = TimeSpan.FromSeconds(-1),
            SaslPassword = "secret",
        };

        var result = new KafkaStreamOptionsValidator().Validate("kafka", options);

        Assert.True(result.Failed);
        string[] expected =
        [
            "BootstrapServers", "SaslUsername", "empty topic", "more than once", "ConsumerGroupId", "FetchWaitMaxMs", "MaxBatchSize",
            "MaxPendingRecords", "CacheSize", "QueuedMaxMessagesKbytes", "MetadataTimeout", "CommitAttempts", "CommitRetryBackoff",
        ];
        Assert.All(expected, e => Assert.Contains(result.Failures!, f => f.Contains(e, StringComparison.Ordinal)));
        Assert.Equal(expected.Length, result.Failures!.Count());
    }

    [Fact]
    public void KafkaStreamOptionsValidator_Defaults_NeedOnlyServersTopicsAndGroup()
    {
        var options = new KafkaStreamOptions { BootstrapServers = "k:9092", Topics = ["in"], ConsumerGroupId = "gw" };

        Assert.True(new KafkaStreamOptionsValidator().Validate("kafka", options).Succeeded);
        Assert.Equal(KafkaStreamOptions.DefaultFetchWaitMaxMs, options.FetchWaitMaxMs);
        Assert.Equal(KafkaStreamOptions.DefaultMaxBatchSize, options.MaxBatchSize);
        Assert.Equal(AutoOffsetReset.Earliest, options.AutoOffsetReset);
    }

    [Fact]
    public void KafkaClientOptions_ToString_RedactsSecrets()
    {
        var options = new KafkaUpstreamOptions
        {
            BootstrapServers = "k:9092",
            Topic = "up",
            SaslUsername = "gateway",
            SaslPassword = "hunter2",
            AdditionalProperties = { ["ssl.key.password"] = "p4ss", ["sasl.oauthbearer.client.secret"] = "s3cret", ["client.id"] = "edge-1" },
        };

        var text = options.ToString();

        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("p4ss", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);
        Assert.Contains("gateway", text, StringComparison.Ordinal);
        Assert.Contains("edge-1", text, StringComparison.Ordinal);
        Assert.Contains("Topic = up", text, StringComparison.Ordinal);
    }

    [Fact]
    public void OffsetTracker_SettledOutOfOrder_CommitsOnlyTheSettledPrefix()
    {
        var tracker = new KafkaOffsetTracker();
        foreach (var offset in new long[] { 5, 6, 8, 9 })
        {
            tracker.Read(offset);
        }

        Assert.False(tracker.Settle(6));
        Assert.False(tracker.Settle(9));
        Assert.Equal(-1, tracker.CommittableOffset);
        Assert.True(tracker.Settle(5));
        Assert.Equal(7, tracker.CommittableOffset);
        Assert.True(tracker.Settle(8));
        Assert.Equal(10, tracker.CommittableOffset);
        Assert.Equal(0, tracker.PendingCount);
    }

    [Fact]
    public void OffsetTracker_SkippedRecordAtHead_IsCommittablePastImmediately()
    {
        var tracker = new KafkaOffsetTracker();
        tracker.Read(0, settled: true);
        tracker.Read(1);
        tracker.Read(2, settled: true);

        Assert.Equal(1, tracker.CommittableOffset);
        Assert.Equal(2, tracker.PendingCount);
        Assert.False(tracker.Settle(0));
        Assert.Throws<InvalidOperationException>(() => tracker.Read(2));
    }

    [Fact]
    public void QueueMapper_TwoTopics_OneQueuePerPartitionCoveredExactlyOnceByTheRing()
    {
        var mapper = new KafkaStreamQueueMapper("kafka", [("b", 3), ("a", 2)]);
        var queues = mapper.GetAllQueues().ToList();

        Assert.Equal(5, queues.Distinct().Count());
        Assert.Equal(
            ["a/0", "a/1", "b/0", "b/1", "b/2"],
            queues.Select(q => mapper.GetPartition(q)).Select(tp => $"{tp.Topic}/{tp.Partition.Value}").Order());
        Assert.Equal(new TopicPartition("b", 2), mapper.GetPartition(mapper.GetQueue("b", 2)));

        // Same inputs on another silo → the same queues.
        Assert.Equal(queues, new KafkaStreamQueueMapper("kafka", [("b", 3), ("a", 2)]).GetAllQueues());
        Assert.Throws<ArgumentOutOfRangeException>(() => mapper.GetPartition(QueueId.GetQueueId("other", 0, 0)));
    }

    [Fact]
    public void QueueMapper_StreamKey_MapsToTheFirstTopicsPartitionOfThatKey()
    {
        var mapper = new KafkaStreamQueueMapper("kafka", [("in", 6), ("other", 2)]);

        var queue = mapper.GetQueueForStream(StreamId.Create("ogw.client", "alice"));
        var channelQueue = mapper.GetQueueForStream(StreamId.Create("ogw.channel", "alice"));

        Assert.Equal("in", mapper.GetPartition(queue).Topic);
        Assert.Equal(queue, channelQueue);
        Assert.Equal(KafkaStreamQueueMapper.LibrdkafkaDefaultPartition("alice"u8, 6), mapper.GetPartition(queue).Partition.Value);
    }

    [Fact]
    public void BatchContainer_GetEvents_YieldsTheRecordWithItsOffsetToken()
    {
        var record = new InboundMessage("billing", "{}"u8.ToArray(), "in/1", 7);
        var container = new KafkaBatchContainer(StreamId.Create("ogw.client", "a"), record, new KafkaSequenceToken(7, receiverEpoch: 1));

        var (item, token) = Assert.Single(container.GetEvents<InboundMessage>());
        Assert.Same(record, item);
        Assert.Equal(7, token.SequenceNumber);
        Assert.Empty(container.GetEvents<string>());
        Assert.True(new KafkaSequenceToken(8, 1).Newer(token));
        Assert.Equal(new KafkaSequenceToken(7, receiverEpoch: 2), token);
    }
}
