using System.Text;
using Confluent.Kafka;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>At-least-once across restarts, silo loss and give-ups: every test runs its own Orleans cluster(s).</summary>
public sealed class KafkaStreamRecoveryTests : IClassFixture<MockKafkaCluster>
{
    private readonly MockKafkaCluster _kafka;

    public KafkaStreamRecoveryTests(MockKafkaCluster kafka) => _kafka = kafka;

    [Fact]
    public async Task KafkaStream_ClusterRestartedWithUndeliveredRecords_RedeliversThemAndLosesNone()
    {
        var (topic, group) = NewTopic(partitions: 2);
        var blocked = KafkaTestKit.Unique("blocked");
        var others = Enumerable.Range(0, 6).Select(_ => KafkaTestKit.Unique("steady")).ToList();
        KafkaProbe.FailNext(blocked, int.MaxValue);

        var first = await KafkaTestKit.StartClusterAsync(_kafka.BootstrapServers, topic, group, a => a.MaxEventDeliveryTime = TimeSpan.FromMinutes(5));
        var produced = await ProduceAsync(topic, [blocked, .. others], perKey: 4);
        var blockedRecords = produced.Where(p => p.Message.Key == blocked).ToList();

        await KafkaProbe.WaitUntilAsync(
            () => KafkaProbe.AttemptsFor(blocked) >= 2 && others.All(c => KafkaProbe.For(c).Count >= 4),
            KafkaTestKit.Timeout,
            "the other keys' records and repeated failures of the blocked key");
        await first.DisposeAsync();

        // The stopped cluster committed nothing at or past the blocked key's first record.
        var committed = KafkaTestKit.Committed(_kafka.BootstrapServers, group, blockedRecords[0].TopicPartition);
        Assert.True(committed <= blockedRecords[0].Offset.Value, $"committed {committed} past undelivered offset {blockedRecords[0].Offset.Value}");
        Assert.Empty(KafkaProbe.For(blocked));

        KafkaProbe.StopFailing(blocked);
        await using var second = await KafkaTestKit.StartClusterAsync(_kafka.BootstrapServers, topic, group);

        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.For(blocked).Count >= 4, KafkaTestKit.Timeout, "the blocked key's records after the restart");
        Assert.Equal(blockedRecords.Select(p => p.Offset.Value), KafkaProbe.For(blocked).Select(r => r.Offset()).Distinct());
        AssertAllArrived(produced, [blocked, .. others]);
    }

    [Fact]
    public async Task KafkaStream_SiloStoppedWithRecordsPending_SurvivorTakesOverAndLosesNone()
    {
        var (topic, group) = NewTopic(partitions: 6);
        var blocked = KafkaTestKit.Unique("blocked");
        var clients = Enumerable.Range(0, 30).Select(_ => KafkaTestKit.Unique("failover")).ToList();
        KafkaProbe.FailNext(blocked, int.MaxValue);

        await using var cluster = await KafkaTestKit.StartClusterAsync(_kafka.BootstrapServers, topic, group);
        var before = await ProduceAsync(topic, [blocked, .. clients], perKey: 2);
        await KafkaProbe.WaitUntilAsync(
            () => KafkaProbe.AttemptsFor(blocked) >= 1 && clients.All(c => KafkaProbe.For(c).Count >= 2),
            KafkaTestKit.Timeout,
            "the first records");

        await cluster.StopSiloAsync(cluster.Silos[1]);
        KafkaProbe.StopFailing(blocked);
        var after = await ProduceAsync(topic, [blocked, .. clients], perKey: 2);

        await KafkaProbe.WaitUntilAsync(
            () => KafkaProbe.For(blocked).Count >= 4 && clients.All(c => KafkaProbe.For(c).Select(r => r.Offset()).Distinct().Count() >= 4),
            KafkaTestKit.Timeout,
            "every record after the silo stopped");
        AssertAllArrived([.. before, .. after], [blocked, .. clients]);
        Assert.Single(cluster.GetActiveSilos());
    }

    [Fact]
    public async Task KafkaStream_DeliveryGivenUpWithImplicitOnlyPubSub_IsCountedAndCommittedPastSoThePartitionKeepsCommitting()
    {
        var (topic, group) = NewTopic(partitions: 1);
        var poisoned = KafkaTestKit.Unique("poison");
        var healthy = KafkaTestKit.Unique("healthy");
        KafkaProbe.FailNext(poisoned, int.MaxValue);
        using var givenUp = new CounterProbe("ogw.kafka.records.given_up", topic);

        await using var cluster = await KafkaTestKit.StartClusterAsync(_kafka.BootstrapServers, topic, group, a => a.MaxEventDeliveryTime = TimeSpan.FromMilliseconds(500), implicitOnly: true);
        var produced = await ProduceAsync(topic, [poisoned, healthy], perKey: 1);
        var last = produced.Max(p => p.Offset.Value);

        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.For(healthy).Count == 1, KafkaTestKit.Timeout, "the healthy record");
        await KafkaTestKit.EventuallyAsync(
            () => KafkaTestKit.Committed(_kafka.BootstrapServers, group, new TopicPartition(topic, 0)) > last,
            KafkaTestKit.Timeout,
            "the commit past the given-up record");

        Assert.Empty(KafkaProbe.For(poisoned));
        Assert.True(KafkaProbe.AttemptsFor(poisoned) >= 2, $"only {KafkaProbe.AttemptsFor(poisoned)} delivery attempts");
        Assert.Equal(1, givenUp.Total);
        KafkaProbe.StopFailing(poisoned);
    }

    [Fact]
    public async Task KafkaStream_DeliveryGivenUpWithDeadLetterTopic_CopiedThereWithProvenanceBeforeTheCommitPassesIt()
    {
        var (topic, group) = NewTopic(partitions: 1);
        var deadLetters = KafkaTestKit.Unique("dlq");
        _kafka.CreateTopic(deadLetters, 1);
        var poisoned = KafkaTestKit.Unique("poison");
        var healthy = KafkaTestKit.Unique("healthy");
        KafkaProbe.FailNext(poisoned, int.MaxValue);
        using var deadLettered = new CounterProbe("ogw.kafka.records.dead_lettered", topic);

        await using var cluster = await KafkaTestKit.StartClusterAsync(
            _kafka.BootstrapServers, topic, group, a => a.MaxEventDeliveryTime = TimeSpan.FromMilliseconds(500), implicitOnly: true,
            kafka: o => o.DeadLetterTopic = deadLetters);
        var produced = await ProduceAsync(topic, [poisoned, healthy], perKey: 1);
        using var producer = KafkaTestKit.CreateProducer(_kafka.BootstrapServers);
        var invalid = await producer.ProduceAsync(topic, KafkaTestKit.Record(healthy, "not json {"));
        var last = invalid.Offset.Value;

        await KafkaProbe.WaitUntilAsync(() => KafkaProbe.For(healthy).Count == 1, KafkaTestKit.Timeout, "the healthy record");
        await KafkaTestKit.EventuallyAsync(
            () => KafkaTestKit.Committed(_kafka.BootstrapServers, group, new TopicPartition(topic, 0)) > last,
            KafkaTestKit.Timeout,
            "the commit past the dead-lettered records");

        // Both records the gateway could not apply are in the dead-letter topic, unchanged, with where they came from.
        // The invalid record is copied at once, the given-up one after MaxEventDeliveryTime: ordered here by origin.
        var copies = KafkaTestKit.ConsumeAll(_kafka.BootstrapServers, deadLetters)
            .OrderBy(c => long.Parse(Encoding.UTF8.GetString(c.Message.Headers.GetLastBytes(KafkaDeadLetterWriter.OffsetHeader)), System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.Equal(2, copies.Count);
        var poison = produced.Single(p => p.Message.Key == poisoned);
        AssertCopy(copies[0], poison.Message.Key, poison.Message.Value, "given_up", topic, poison.Offset.Value);
        AssertCopy(copies[1], healthy, Encoding.UTF8.GetBytes("not json {"), "invalid: the record value is not one valid JSON value", topic, invalid.Offset.Value);
        Assert.Equal(2, deadLettered.Total);
        Assert.Empty(KafkaProbe.For(poisoned));
        KafkaProbe.StopFailing(poisoned);
    }

    private static void AssertCopy(ConsumeResult<byte[], byte[]> copy, string key, byte[] value, string reason, string topic, long offset)
    {
        string Header(string name) => Encoding.UTF8.GetString(copy.Message.Headers.GetLastBytes(name));
        Assert.Equal(key, Encoding.UTF8.GetString(copy.Message.Key));
        Assert.Equal(value, copy.Message.Value);
        Assert.Equal(reason, Header(KafkaDeadLetterWriter.ReasonHeader));
        Assert.Equal(topic, Header(KafkaDeadLetterWriter.TopicHeader));
        Assert.Equal("0", Header(KafkaDeadLetterWriter.PartitionHeader));
        Assert.Equal(offset.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(KafkaDeadLetterWriter.OffsetHeader));
    }

    private (string Topic, string Group) NewTopic(int partitions)
    {
        var topic = KafkaTestKit.Unique("recovery");
        _kafka.CreateTopic(topic, partitions);
        return (topic, KafkaTestKit.Unique("g"));
    }

    private async Task<List<DeliveryResult<string, byte[]>>> ProduceAsync(string topic, IReadOnlyList<string> keys, int perKey)
    {
        using var producer = KafkaTestKit.CreateProducer(_kafka.BootstrapServers);
        var results = new List<DeliveryResult<string, byte[]>>();
        for (var i = 0; i < perKey; i++)
        {
            foreach (var key in keys)
            {
                results.Add(await producer.ProduceAsync(topic, KafkaTestKit.Record(key, $$"""{"key":"{{key}}","i":{{i}}}""")));
            }
        }

        return results;
    }

    /// <summary>At-least-once: every produced record reached its key's grain at least once.</summary>
    private static void AssertAllArrived(IEnumerable<DeliveryResult<string, byte[]>> produced, IEnumerable<string> keys)
    {
        var arrived = keys.SelectMany(KafkaProbe.For).Select(r => (r.Partition(), r.Offset(), Encoding.UTF8.GetString(r.Data))).ToHashSet();
        Assert.All(produced, p => Assert.Contains((p.Partition.Value, p.Offset.Value, Encoding.UTF8.GetString(p.Message.Value)), arrived));
    }
}
