using Orleans.Hosting;

namespace OrleansGateway.Streams.Kafka;

/// <summary>Adds the Kafka stream provider to a silo.</summary>
public static class KafkaSiloBuilderExtensions
{
    /// <summary>
    /// Adds a persistent stream provider named <paramref name="name"/> that delivers Kafka records on the
    /// <c>ogw.client</c> and <c>ogw.channel</c> streams (docs/kafka.md). One Kafka partition = one Orleans queue.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The stream provider name (<c>this.GetStreamProvider(name)</c>).</param>
    /// <param name="configureOptions">Sets <see cref="KafkaStreamOptions"/>; validated when the silo starts.</param>
    /// <param name="configureStream">Optional Orleans settings, e.g. <c>s => s.ConfigurePullingAgent(…)</c>.</param>
    public static ISiloBuilder AddKafkaStreams(
        this ISiloBuilder builder,
        string name,
        Action<KafkaStreamOptions> configureOptions,
        Action<SiloKafkaStreamConfigurator>? configureStream = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configureOptions);

        var configurator = new SiloKafkaStreamConfigurator(name, configure => configure(builder.Services));
        configurator.ConfigureKafka(options => options.Configure(configureOptions));
        configureStream?.Invoke(configurator);
        return builder;
    }
}
