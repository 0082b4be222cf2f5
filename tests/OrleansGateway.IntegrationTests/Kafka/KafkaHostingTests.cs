using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Streams;
using Orleans.TestingHost;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>How a silo host enables the provider.</summary>
public sealed class KafkaHostingTests
{
    [Fact]
    public async Task AddKafkaStreams_InvalidOptions_SiloStartFailsListingEveryProblem()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => silo.AddKafkaStreams(KafkaTestKit.ProviderName, o => o.MaxBatchSize = 0, s => s.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly)));
        var cluster = builder.Build();
        try
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.DeployAsync());
            var validation = FindValidationError(error);
            Assert.True(validation is not null, error.ToString());
            Assert.Contains(validation.Failures, f => f.Contains("BootstrapServers", StringComparison.Ordinal));
            Assert.Contains(validation.Failures, f => f.Contains("Topics", StringComparison.Ordinal));
            Assert.Contains(validation.Failures, f => f.Contains("ConsumerGroupId", StringComparison.Ordinal));
            Assert.Contains(validation.Failures, f => f.Contains("MaxBatchSize", StringComparison.Ordinal));
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static OptionsValidationException? FindValidationError(Exception? error) => error switch
    {
        null => null,
        OptionsValidationException validation => validation,
        AggregateException aggregate => aggregate.InnerExceptions.Select(FindValidationError).FirstOrDefault(e => e is not null),
        _ => FindValidationError(error.InnerException),
    };
}
