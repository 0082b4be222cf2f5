using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains;

namespace OrleansGateway.Streams.Kafka;

/// <summary>Lifecycle events to Kafka (for silos).</summary>
public static class KafkaEventsServiceCollectionExtensions
{
    /// <summary>
    /// Makes Kafka the silo's <see cref="ILifecycleEventPublisher"/>: <see cref="KafkaEventsOptions"/> bound from
    /// <see cref="KafkaStreamOptions.SectionName"/> then <see cref="KafkaEventsOptions.SectionName"/>, validated when the
    /// host starts. Call before the grains' services (they add the memory stream only when no publisher is registered).
    /// </summary>
    public static IServiceCollection AddKafkaLifecycleEvents(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<KafkaEventsOptions>()
            .BindConfiguration(KafkaStreamOptions.SectionName)
            .BindConfiguration(KafkaEventsOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaEventsOptions>, KafkaEventsOptionsValidator>());
        services.AddGatewayEventsOptions();
        services.TryAddSingleton<ILifecycleEventPublisher, KafkaLifecycleEventPublisher>();
        return services;
    }
}
