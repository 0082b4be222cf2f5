using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.Upstream.Kafka;

/// <summary>Registers the upstream producer (for edges).</summary>
internal static class KafkaUpstreamServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="KafkaUpstreamProducer"/> with <see cref="KafkaUpstreamOptions"/> bound from
    /// <see cref="KafkaUpstreamOptions.SectionName"/>, then <paramref name="configure"/>; validated when the host starts.
    /// </summary>
    public static IServiceCollection AddKafkaUpstreamProducer(this IServiceCollection services, Action<KafkaUpstreamOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<KafkaUpstreamOptions>().BindConfiguration(KafkaUpstreamOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaUpstreamOptions>, KafkaUpstreamOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton<KafkaUpstreamProducer>();
        return services;
    }
}
