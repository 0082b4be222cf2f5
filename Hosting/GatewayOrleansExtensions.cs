using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansGateway.Grains;
using OrleansGateway.Streams.Kafka;
using StackExchange.Redis;

namespace OrleansGateway.Hosting;

/// <summary>
/// Orleans configuration shared by the silo host, the embedded dev host, edges, backends and tests: clustering, the
/// grain directory, streams. The grains' own services come from the silo (<c>AddGatewayGrains</c> in Grains).
/// </summary>
public static class GatewayOrleansExtensions
{
    /// <summary>Name of the Kafka stream provider on silos (when <c>Gateway:Kafka:Streams</c> is configured).</summary>
    public const string KafkaProviderName = "kafka";

    /// <summary>Reads <see cref="GatewayClusterOptions"/> from configuration (for use before the host is built).</summary>
    public static GatewayClusterOptions GetGatewayClusterOptions(this IConfiguration configuration)
    {
        var options = configuration.GetSection(GatewayClusterOptions.SectionName).Get<GatewayClusterOptions>() ?? new();
        options.Redis ??= configuration.GetConnectionString("Redis");
        var result = new GatewayClusterOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(GatewayClusterOptions.SectionName, typeof(GatewayClusterOptions), result.Failures);
        }

        return options;
    }

    /// <summary>
    /// Makes this silo a gateway silo: clustering (Redis or localhost), the distributed grain directory, streams.
    /// The grains' options and services are added by the silo beside it (<c>AddGatewayGrains</c>).
    /// </summary>
    public static ISiloBuilder AddGatewaySilo(this ISiloBuilder silo, IConfiguration configuration)
    {
        var cluster = silo.Services.AddClusterIds(configuration);
        silo.Configure<SiloMessagingOptions>(o => o.ClientDropTimeout = cluster.ClientDropTimeout);

        if (cluster.UsesRedis)
        {
            silo.ConfigureEndpoints(cluster.AdvertisedIp, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: !string.IsNullOrWhiteSpace(cluster.AdvertisedAddress));
            silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(cluster.Redis!));
        }
        else
        {
            var primary = new IPEndPoint(IPAddress.Loopback, cluster.PrimarySiloPort ?? cluster.SiloPort);
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primary, cluster.ServiceId, cluster.ClusterId);
        }

        // Required: with the default directory, stopping one silo deactivates ~25% of the grains on the
        // survivors and loses their memory state (docs/operations.md, "Rolling deploy and scale-in of silos").
        silo.AddDistributedGrainDirectory();

        // Backends reach clients and channels through streams the grains subscribe to implicitly: memory streams
        // always (the embedded default, and .NET backends may publish there), Kafka when configured.
        silo.AddMemoryGrainStorage("PubSubStore");
        silo.AddMemoryStreams(UpstreamStreams.ProviderName);
        if (!string.IsNullOrWhiteSpace(configuration[$"{KafkaStreamOptions.SectionName}:{nameof(KafkaStreamOptions.BootstrapServers)}"]))
        {
            silo.AddKafkaStreams(
                KafkaProviderName,
                _ => { },
                stream =>
                {
                    stream.ConfigureKafka(options => options.BindConfiguration(KafkaStreamOptions.SectionName));
                    // The pulling agent's poll period is the floor of Kafka → client latency (Orleans' default: 100 ms).
                    stream.ConfigurePullingAgent(o => o.Configure(a => a.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(20)));
                });

            // Lifecycle events take the path of the gateway's other traffic to backends: Kafka when it is configured.
            silo.Services.AddKafkaLifecycleEvents();
        }

        silo.Services.AddEdgeLeaseOptions();
        silo.AddGatewayTracing(configuration);
        return silo;
    }

    /// <summary>Makes this Orleans client find the gateway silos (Redis or localhost).</summary>
    public static IClientBuilder AddGatewayClient(this IClientBuilder client, IConfiguration configuration)
    {
        var cluster = client.Services.AddClusterIds(configuration);

        if (cluster.UsesRedis)
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(cluster.Redis!));
            // Notice new and departed silos quickly: edges are the first to feel a rolling restart.
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
        }
        else
        {
            var ports = cluster.GatewayPorts.Length > 0 ? cluster.GatewayPorts : [cluster.GatewayPort];
            client.UseLocalhostClustering(ports, cluster.ServiceId, cluster.ClusterId);
        }

        client.AddMemoryStreams(UpstreamStreams.ProviderName);
        client.Services.AddEdgeLeaseOptions();
        client.AddGatewayTracing(configuration);
        return client;
    }

    /// <summary>The cluster's ids, the same for silos and clients (a client joins only the cluster whose ids it has).</summary>
    private static GatewayClusterOptions AddClusterIds(this IServiceCollection services, IConfiguration configuration)
    {
        var cluster = configuration.GetGatewayClusterOptions();
        services.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        return cluster;
    }
}
