using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Configuration;

namespace OrleansGateway.EdgeHost.Rebalancing;

internal static class RebalancingServiceCollectionExtensions
{
    /// <summary>
    /// Connection rebalancing (<c>Gateway:Rebalance</c>): options validated at start, the edge-load registry, the metric
    /// and the background round. Registered whether or not it is enabled; when off the round never starts.
    /// </summary>
    public static IServiceCollection AddGatewayRebalancing(this IServiceCollection services)
    {
        services.AddOptions<RebalanceOptions>().BindConfiguration(RebalanceOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RebalanceOptions>, RebalanceOptionsValidator>();
        services.AddSingleton<IEdgeLoadRegistry, GrainEdgeLoadRegistry>();
        services.AddSingleton<RebalanceMetrics>();
        services.AddHostedService<EdgeRebalancer>();
        return services;
    }
}
