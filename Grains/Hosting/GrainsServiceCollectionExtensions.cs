using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.MessageLogs;
using Orleans.Runtime.Placement;
using OrleansGateway.Grains.Placement;

namespace OrleansGateway.Grains.Hosting;

/// <summary>What a silo adds for the grains of this assembly: their options and per-silo services.</summary>
public static class GrainsServiceCollectionExtensions
{
    /// <summary>
    /// The grains' options and services on a silo already made a gateway silo (<c>AddGatewaySilo</c> in Hosting).
    /// Fails at once when Redis durability is asked for without a Redis to use.
    /// </summary>
    public static ISiloBuilder AddGatewayGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        // The key the edge reads to co-host this silo (EdgeHost's EmbeddedSiloKey): client grains then stay in the process.
        silo.Services.AddGatewayGrainServices(coHostedWithEdge: configuration.GetValue<bool>("Gateway:EmbeddedSilo"));
        var mailbox = configuration.GetSection(MailboxOptions.SectionName).Get<MailboxOptions>() ?? new();
        if (mailbox.Durability == MailboxDurability.Redis && MessageLogStoreFactory.RedisConnection(mailbox, configuration) is null)
        {
            throw new OptionsValidationException(MailboxOptions.SectionName, typeof(MailboxOptions),
                [$"{MailboxOptions.SectionName}:Durability=Redis needs {MailboxOptions.SectionName}:Redis or {MessageLogStoreFactory.ClusterRedisKey}."]);
        }

        return silo;
    }

    /// <summary>
    /// The services client and channel grains need (options, the per-silo edge directory and its sweep, metrics), without
    /// clustering: for silos configured elsewhere, e.g. test clusters.
    /// </summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="coHostedWithEdge">True when an edge co-hosts this silo: client grains are placed with the edge (<see cref="EdgeLocalPlacement"/>).</param>
    public static IServiceCollection AddGatewayGrainServices(this IServiceCollection services, bool coHostedWithEdge = false)
    {
        services.AddOptions<MailboxOptions>().BindConfiguration(MailboxOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailboxOptions>>(new RetentionOptionsValidator<MailboxOptions>(MailboxOptions.SectionName));
        services.AddOptions<ChannelOptions>().BindConfiguration(ChannelOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChannelOptions>>(new RetentionOptionsValidator<ChannelOptions>(ChannelOptions.SectionName));
        services.AddEdgeLeaseOptions();
        services.AddSingleton<EdgeDirectory>();
        services.AddHostedService<EdgeSweeper>();
        services.AddSingleton<GrainMetrics>();
        services.AddSingleton<MessageLogStoreFactory>();
        services.AddSingleton(TimeProvider.System);
        services.AddPlacementDirector<EdgeLocalPlacement>(sp => new EdgeLocalPlacementDirector(
            coHostedWithEdge, sp.GetRequiredKeyedService<IPlacementDirector>(typeof(ResourceOptimizedPlacement))));
        return services;
    }
}
