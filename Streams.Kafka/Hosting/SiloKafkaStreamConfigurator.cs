using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;

namespace OrleansGateway.Streams.Kafka;

/// <summary>Configures one Kafka stream provider on a silo (pulling agent, pub-sub, balancer: the Orleans knobs).</summary>
public sealed class SiloKafkaStreamConfigurator : SiloPersistentStreamConfigurator
{
    public SiloKafkaStreamConfigurator(string name, Action<Action<IServiceCollection>> configureServicesDelegate)
        : base(name, configureServicesDelegate, KafkaAdapterFactory.Create)
    {
        ConfigureDelegate(services =>
        {
            services.AddOptions<KafkaStreamOptions>(name).ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaStreamOptions>, KafkaStreamOptionsValidator>());
            services.AddMetrics();
            services.TryAddSingleton<KafkaStreamMetrics>();
            services.ConfigureNamedOptionForLogging<KafkaStreamOptions>(name);
        });
    }

    /// <summary>Configures <see cref="KafkaStreamOptions"/> for this provider, e.g. <c>ob => ob.BindConfiguration(KafkaStreamOptions.SectionName)</c>.</summary>
    public SiloKafkaStreamConfigurator ConfigureKafka(Action<OptionsBuilder<KafkaStreamOptions>> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(configureOptions);
        this.Configure(configureOptions);
        return this;
    }
}
