using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansGateway.IntegrationTests.Fixtures;
using OrleansGateway.EdgeHost.Upstream;
using OrleansGateway.EdgeHost.Upstream.Kafka;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>The upstream producer against the mock cluster, built through its DI registration.</summary>
public sealed class KafkaUpstreamProducerTests : IClassFixture<MockKafkaCluster>
{
    private readonly MockKafkaCluster _kafka;

    public KafkaUpstreamProducerTests(MockKafkaCluster kafka) => _kafka = kafka;

    [Fact]
    public async Task ProduceAsync_UpFrame_WritesKeyHeadersAndValue()
    {
        var topic = KafkaTestKit.Unique("upstream");
        _kafka.CreateTopic(topic, 3);
        await using var services = Build(topic, TimeSpan.FromSeconds(5));
        var producer = services.GetRequiredService<KafkaUpstreamProducer>();

        await producer.ProduceAsync("alice", "orders.create", Encoding.UTF8.GetBytes("""{"sku":"a-1","qty":2}"""), CancellationToken.None);

        var record = ConsumeOne(topic);
        Assert.Equal("alice", Encoding.UTF8.GetString(record.Message.Key));
        Assert.Equal("""{"sku":"a-1","qty":2}""", Encoding.UTF8.GetString(record.Message.Value));
        Assert.Equal("alice", Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes(KafkaRecordRouting.UpstreamClientHeader)));
        Assert.Equal("orders.create", Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes(KafkaRecordRouting.UpstreamTopicHeader)));
        // Nothing else, but the W3C trace header a process-wide tracing listener (another test collection's) may add.
        Assert.Equal(
            [KafkaRecordRouting.UpstreamClientHeader, KafkaRecordRouting.UpstreamTopicHeader],
            record.Message.Headers.Select(h => h.Key).Where(k => k != KafkaTracing.TraceParentHeader).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ProduceAsync_AllBrokersDown_ThrowsUpstreamUnavailableWithinMessageTimeoutThenSucceedsWhenBrokersReturn()
    {
        // Its own cluster: taking every broker down must not disturb the other tests' clusters.
        using var kafka = new MockKafkaCluster();
        var topic = KafkaTestKit.Unique("upstream-down");
        kafka.CreateTopic(topic, 1);
        var messageTimeout = TimeSpan.FromSeconds(2);
        await using var services = Build(topic, messageTimeout, kafka.BootstrapServers);
        var producer = services.GetRequiredService<KafkaUpstreamProducer>();
        await producer.ProduceAsync("bob", "t", "1"u8.ToArray(), CancellationToken.None);

        kafka.AllBrokersDown();
        var stopwatch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<UpstreamUnavailableException>(
            () => producer.ProduceAsync("bob", "t", "2"u8.ToArray(), CancellationToken.None));
        stopwatch.Stop();
        // librdkafka scans for timed-out messages about once a second, and CI machines are shared: bound it loosely,
        // but well below the default MessageTimeout a misconfigured producer would fall back to.
        Assert.True(stopwatch.Elapsed <= messageTimeout + TimeSpan.FromMilliseconds(1500), $"took {stopwatch.Elapsed}, timeout {messageTimeout}");
        Assert.NotNull(failure.InnerException);

        kafka.AllBrokersUp();
        var recovered = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await producer.ProduceAsync("bob", "t", "3"u8.ToArray(), CancellationToken.None);
                break;
            }
            catch (UpstreamUnavailableException) when (recovered.Elapsed < KafkaTestKit.Timeout)
            {
                // The client reconnects with backoff: a record sent before it did may still time out.
            }
        }

        Assert.Contains("3", KafkaTestKit.ConsumeAll(kafka.BootstrapServers, topic).Select(r => Encoding.UTF8.GetString(r.Message.Value)));
    }

    [Fact]
    public void AddKafkaUpstreamProducer_InvalidOptions_FailsValidationWithEveryProblem()
    {
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddLogging()
            .AddKafkaUpstreamProducer(o => o.MessageTimeout = TimeSpan.Zero)
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<KafkaUpstreamProducer>());
        Assert.Contains(error.Failures, f => f.Contains("BootstrapServers", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Topic", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("MessageTimeout", StringComparison.Ordinal));
    }

    private ServiceProvider Build(string topic, TimeSpan messageTimeout, string? bootstrapServers = null) =>
        new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddLogging()
            .AddKafkaUpstreamProducer(o =>
            {
                o.BootstrapServers = bootstrapServers ?? _kafka.BootstrapServers;
                o.Topic = topic;
                o.MessageTimeout = messageTimeout;
            })
            .BuildServiceProvider();

    private ConsumeResult<byte[], byte[]> ConsumeOne(string topic) => Assert.Single(KafkaTestKit.ConsumeAll(_kafka.BootstrapServers, topic));
}
