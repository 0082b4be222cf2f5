using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.Events;
using OrleansGateway.Grains.MessageLogs;
using OrleansGateway.Grains.Members;

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
        silo.Services.AddGatewayGrainServices();
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
    public static IServiceCollection AddGatewayGrainServices(this IServiceCollection services)
    {
        services.AddOptions<MailboxOptions>().BindConfiguration(MailboxOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailboxOptions>>(new RetentionOptionsValidator<MailboxOptions>(MailboxOptions.SectionName));
        services.AddOptions<ChannelOptions>().BindConfiguration(ChannelOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChannelOptions>>(new RetentionOptionsValidator<ChannelOptions>(ChannelOptions.SectionName));
        services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PresenceOptions>, PresenceOptionsValidator>();
        services.AddEdgeLeaseOptions();
        services.AddGatewayEventsOptions();
        // The memory stream unless the silo's Kafka registered its own (AddGatewaySilo runs first).
        services.TryAddSingleton<ILifecycleEventPublisher, MemoryStreamLifecycleEventPublisher>();
        services.AddSingleton<LifecycleEventEmitter>();
        services.AddSingleton<EdgeDirectory>();
        services.AddHostedService<EdgeSweeper>();
        services.AddSingleton<GrainMetrics>();
        services.AddSingleton<MessageLogStoreFactory>();
        services.AddSingleton(TimeProvider.System);
        return services;
    }
}
