using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansGateway.Grains;

namespace OrleansGateway.Backend;

/// <summary>Registers <see cref="IGatewayBackend"/> on an Orleans client.</summary>
public static class GatewayBackendClientBuilderExtensions
{
    /// <summary>
    /// Adds <see cref="IGatewayBackend"/>. Upstream subscriptions need the gateway's stream provider
    /// (<see cref="UpstreamStreams.ProviderName"/>) on the client, as the gateway's client configuration adds it.
    /// </summary>
    public static IClientBuilder AddGatewayBackend(this IClientBuilder client, Action<GatewayBackendOptions>? configure = null)
    {
        var options = client.Services.AddOptions<GatewayBackendOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        client.Services.TryAddSingleton<IGatewayBackend, GatewayBackend>();
        return client;
    }
}
