using System.Text;
using Confluent.Kafka;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime.Providers;
using Orleans.Streams;
using Orleans.TestingHost;
using OrleansGateway.Grains.Hosting;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>Shared pieces of the Kafka tests: an Orleans test cluster with the provider, a producer, committed offsets.</summary>
internal static class KafkaTestKit
{
    public const string ProviderName = "kafka";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>
    /// 2 in-process silos, distributed directory, the Kafka provider on <paramref name="topic"/> committing to
    /// <paramref name="group"/>; Orleans' default pub-sub with a memory PubSubStore, or implicit subscriptions only.
    /// </summary>
    public static async Task<InProcessTestCluster> StartClusterAsync(
        string bootstrapServers, string topic, string group, Action<StreamPullingAgentOptions>? agent = null, bool implicitOnly = false,
        Action<KafkaStreamOptions>? kafka = null)
    {
        const short silos = 2;
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.UseDistributedGrainDirectory = true;
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            // The gateway's ClientGrain/ChannelGrain subscribe to the same namespaces implicitly: give them their services.
            silo.Services.AddGatewayGrainServices();
            if (!implicitOnly)
            {
                silo.AddMemoryGrainStorage("PubSubStore");
            }

            silo.AddKafkaStreams(
                ProviderName,
                options =>
                {
                    options.BootstrapServers = bootstrapServers;
                    options.Topics = [topic];
                    options.ConsumerGroupId = group;
                    options.FetchWaitMaxMs = 5; // the mock answers an empty fetch only after fetch.wait.max.ms
                    kafka?.Invoke(options);
                },
                stream =>
                {
                    stream.ConfigurePullingAgent(o => o.Configure(a =>
                    {
                        a.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(20);
                        agent?.Invoke(a);
                    }));
                    stream.ConfigureBackoffProvider((_, _) => new FixedDeliveryBackoff(TimeSpan.FromMilliseconds(50)));
                    if (implicitOnly)
                    {
                        stream.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                    }
                });
        });

        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static IProducer<string, byte[]> CreateProducer(string bootstrapServers) =>
        new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 0,
        }).Build();

    public static Message<string, byte[]> Record(string key, string json, string? target = null, string? from = null)
    {
        var headers = new Headers();
        if (target is not null)
        {
            headers.Add(KafkaRecordRouting.TargetHeader, Encoding.UTF8.GetBytes(target));
        }

        if (from is not null)
        {
            headers.Add(KafkaRecordRouting.FromHeader, Encoding.UTF8.GetBytes(from));
        }

        return new Message<string, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(json), Headers = headers };
    }

    /// <summary>Reads every partition of <paramref name="topic"/> from the start to its high watermark, with Assign.</summary>
    public static List<ConsumeResult<byte[], byte[]>> ConsumeAll(string bootstrapServers, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = Unique("reader"),
            EnableAutoCommit = false,
            FetchWaitMaxMs = 5,
        }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var ends = partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));

        var records = new List<ConsumeResult<byte[], byte[]>>();
        var deadline = DateTime.UtcNow + Timeout;
        while (records.Count < ends.Values.Sum() && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } record)
            {
                records.Add(record);
            }
        }

        Assert.Equal(ends.Values.Sum(), records.Count);
        return records;
    }

    /// <summary>The offset committed to <paramref name="group"/> for a partition; -1001 (<see cref="Offset.Unset"/>) if none.</summary>
    public static long Committed(string bootstrapServers, string group, TopicPartition partition)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
        }).Build();
        return consumer.Committed([partition], TimeSpan.FromSeconds(10)).Single().Offset.Value;
    }

    /// <summary>Polls <paramref name="condition"/> (for state outside this process's signals, e.g. committed offsets).</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}.");
            }

            await Task.Delay(50);
        }
    }

    private sealed class FixedDeliveryBackoff(TimeSpan delay) : IMessageDeliveryBackoffProvider
    {
        public TimeSpan Next(int attempt) => delay;
    }
}
