using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.Mailboxes;
using OrleansGateway.Streams.Kafka;
using StackExchange.Redis;

namespace OrleansGateway.Grains.Hosting;

/// <summary>Orleans configuration shared by the silo host, the embedded dev host, edges and tests.</summary>
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
    /// Makes this silo a gateway silo: clustering (Redis or localhost), the distributed grain directory,
    /// the grains' options and services.
    /// </summary>
    public static ISiloBuilder AddGatewaySilo(this ISiloBuilder silo, IConfiguration configuration)
    {
        var cluster = configuration.GetGatewayClusterOptions();
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
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
        // survivors and loses their memory state (notes/orleans.md §3).
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
        }

        silo.AddGatewayTracing(configuration);
        silo.Services.AddGatewayGrainServices();
        var mailbox = configuration.GetSection(MailboxOptions.SectionName).Get<MailboxOptions>() ?? new();
        if (mailbox.Durability == MailboxDurability.Redis && MailboxStoreFactory.RedisConnection(mailbox, configuration) is null)
        {
            throw new OptionsValidationException(MailboxOptions.SectionName, typeof(MailboxOptions),
                [$"{MailboxOptions.SectionName}:Durability=Redis needs {MailboxOptions.SectionName}:Redis or {GatewayClusterOptions.SectionName}:Redis."]);
        }
        return silo;
    }

    /// <summary>
    /// The services client and channel grains need (options, the per-silo edge lease cache, metrics), without
    /// clustering: for silos configured elsewhere, e.g. test clusters.
    /// </summary>
    public static IServiceCollection AddGatewayGrainServices(this IServiceCollection services)
    {
        services.AddOptions<MailboxOptions>().BindConfiguration(MailboxOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailboxOptions>>(new RetentionOptionsValidator<MailboxOptions>(MailboxOptions.SectionName));
        services.AddOptions<ChannelOptions>().BindConfiguration(ChannelOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChannelOptions>>(new RetentionOptionsValidator<ChannelOptions>(ChannelOptions.SectionName));
        services.AddGatewayLeaseOptions();
        services.AddSingleton<EdgeLeaseCache>();
        services.AddSingleton<EdgeSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeSweeper>());
        services.AddSingleton<GrainMetrics>();
        services.AddSingleton<EdgePushBatcher>();
        services.AddSingleton<MailboxStoreFactory>();
        services.AddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>Makes this Orleans client find the gateway silos (Redis or localhost).</summary>
    public static IClientBuilder AddGatewayClient(this IClientBuilder client, IConfiguration configuration)
    {
        var cluster = configuration.GetGatewayClusterOptions();
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });

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
        client.AddGatewayTracing(configuration);
        client.Services.AddGatewayLeaseOptions();
        return client;
    }

    private static void AddGatewayLeaseOptions(this IServiceCollection services)
    {
        services.AddOptions<EdgeLeaseOptions>().BindConfiguration(EdgeLeaseOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EdgeLeaseOptions>, EdgeLeaseOptionsValidator>();
    }
}
