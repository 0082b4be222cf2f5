using System.Runtime.InteropServices;
using System.Text;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// librdkafka's in-process mock Kafka cluster (real Kafka protocol over TCP on 127.0.0.1), driven through P/Invoke into
/// the very librdkafka that Confluent.Kafka loaded (shared/notes/kafka-mock.md). Linux only. One per test class:
/// clusters are cheap and isolated; use unique topic and group names per test.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private const string Lib = "librdkafka";

    // On Debian 12 Confluent.Kafka falls back to centos8-librdkafka.so: bind to the file it actually mapped.
    private static readonly Lazy<IntPtr> Handle = new(() =>
    {
        _ = Confluent.Kafka.Library.VersionString;
        var path = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6)
            .Select(fields => fields[^1])
            .FirstOrDefault(p => p.EndsWith("librdkafka.so", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("Confluent.Kafka loaded no librdkafka.so (not in /proc/self/maps).");
        return NativeLibrary.Load(path);
    });

    private readonly Lock _lock = new();
    private IntPtr _handle;
    private IntPtr _cluster;

    static MockKafkaCluster() =>
        NativeLibrary.SetDllImportResolver(typeof(MockKafkaCluster).Assembly, (name, _, _) => name == Lib ? Handle.Value : IntPtr.Zero);

    /// <summary>Three brokers (ids 1–3).</summary>
    public MockKafkaCluster()
    {
        const int brokers = 3;
        BrokerCount = brokers;
        var error = new StringBuilder(512);
        // A throwaway producer handle holds the mock's bookkeeping; it never connects anywhere.
        _handle = rd_kafka_new(0, rd_kafka_conf_new(), error, (UIntPtr)error.Capacity);
        if (_handle == IntPtr.Zero)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {error}");
        }

        _cluster = rd_kafka_mock_cluster_new(_handle, brokers);
        if (_cluster == IntPtr.Zero)
        {
            rd_kafka_destroy(_handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        }

        BootstrapServers = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(_cluster))
            ?? throw new InvalidOperationException("The mock cluster has no bootstrap servers.");
        Check(rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, 0), "set the initial rebalance delay");
    }

    /// <summary><c>127.0.0.1:p1,127.0.0.1:p2,…</c></summary>
    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    public void CreateTopic(string topic, int partitions, int replicationFactor = 3) =>
        Check(rd_kafka_mock_topic_create(Cluster, topic, partitions, Math.Min(replicationFactor, BrokerCount)), $"create topic {topic}");

    /// <summary>Takes every broker down: connections drop and new ones are refused.</summary>
    public void AllBrokersDown()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            Check(rd_kafka_mock_broker_set_down(Cluster, id), $"take broker {id} down");
        }
    }

    public void AllBrokersUp()
    {
        for (var id = 1; id <= BrokerCount; id++)
        {
            Check(rd_kafka_mock_broker_set_up(Cluster, id), $"bring broker {id} up");
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_cluster != IntPtr.Zero)
            {
                rd_kafka_mock_cluster_destroy(_cluster);
                _cluster = IntPtr.Zero;
            }

            if (_handle != IntPtr.Zero)
            {
                rd_kafka_destroy(_handle);
                _handle = IntPtr.Zero;
            }
        }
    }

    private IntPtr Cluster => _cluster != IntPtr.Zero ? _cluster : throw new ObjectDisposedException(nameof(MockKafkaCluster));

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"Mock Kafka: could not {what} (rd_kafka_resp_err_t {error}).");
        }
    }

    [DllImport(Lib)]
    private static extern IntPtr rd_kafka_conf_new();

    [DllImport(Lib)]
    private static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, UIntPtr errstrSize);

    [DllImport(Lib)]
    private static extern void rd_kafka_destroy(IntPtr rk);

    [DllImport(Lib)]
    private static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [DllImport(Lib)]
    private static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

    [DllImport(Lib)]
    private static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [DllImport(Lib)]
    private static extern int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [DllImport(Lib)]
    private static extern int rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mcluster, int delayMs);

    [DllImport(Lib)]
    private static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [DllImport(Lib)]
    private static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
}
