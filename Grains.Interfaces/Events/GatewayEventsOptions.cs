using System.Buffers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Grains;

/// <summary>
/// Connection lifecycle events to backends (docs/events.md), section <see cref="SectionName"/>. Read by silos (the
/// client grains produce the events) and by edges (they tell the grain why a session ended and which channels it
/// follows only for the kinds turned on): configure both alike. A contract between them, hence here.
/// </summary>
public sealed class GatewayEventsOptions
{
    public const string SectionName = "Gateway:Events";

    /// <summary>Default for <see cref="Topic"/>: <c>ogw.events</c>.</summary>
    public const string DefaultTopic = "ogw.events";

    /// <summary>Default for <see cref="MaxPendingPerClient"/>: 64.</summary>
    public const int DefaultMaxPendingPerClient = 64;

    private static readonly SearchValues<char> TopicChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    /// <summary>
    /// Which kinds are produced, e.g. <c>Connected, Disconnected</c>. Default <see cref="LifecycleEventKinds.None"/>:
    /// nothing is produced and nothing is paid for.
    /// </summary>
    public LifecycleEventKinds Kinds { get; set; } = LifecycleEventKinds.None;

    /// <summary>
    /// The Kafka topic when Kafka is configured, else the namespace of the memory stream (key
    /// <see cref="LifecycleEvents.StreamKey"/>). Default <see cref="DefaultTopic"/>.
    /// </summary>
    public string Topic { get; set; } = DefaultTopic;

    /// <summary>
    /// Events of one client waiting for the broker at most; past it, new events of that client are dropped (counted in
    /// <c>ogw.events.dropped</c>) rather than held in the grain's memory. Default <see cref="DefaultMaxPendingPerClient"/>.
    /// </summary>
    public int MaxPendingPerClient { get; set; } = DefaultMaxPendingPerClient;

    /// <summary>True when <paramref name="kind"/> is turned on.</summary>
    public bool Produces(LifecycleEventKinds kind) => (Kinds & kind) != 0;

    internal static bool IsValidTopic(string? topic) =>
        !string.IsNullOrEmpty(topic) && topic.Length <= 249 && !topic.AsSpan().ContainsAnyExcept(TopicChars) && topic is not ("." or "..");
}

/// <summary>Validates <see cref="GatewayEventsOptions"/>, reporting all failures at once.</summary>
public sealed class GatewayEventsOptionsValidator : IValidateOptions<GatewayEventsOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayEventsOptions options)
    {
        const string section = GatewayEventsOptions.SectionName;
        var failures = new List<string>();
        if ((options.Kinds & ~LifecycleEventKinds.All) != 0)
        {
            failures.Add($"{section}:Kinds has unknown kinds (was {options.Kinds}); known: {LifecycleEventKinds.All}.");
        }

        if (!GatewayEventsOptions.IsValidTopic(options.Topic))
        {
            failures.Add($"{section}:Topic must be 1-249 characters of [A-Za-z0-9._-], and not '.' or '..' (was '{options.Topic}').");
        }

        if (options.MaxPendingPerClient is < 1 or > 10_000)
        {
            failures.Add($"{section}:MaxPendingPerClient must be between 1 and 10000 (was {options.MaxPendingPerClient}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

public static class GatewayEventsOptionsExtensions
{
    /// <summary><see cref="GatewayEventsOptions"/> bound from <see cref="GatewayEventsOptions.SectionName"/>, validated at start: silos and edges alike.</summary>
    public static IServiceCollection AddGatewayEventsOptions(this IServiceCollection services)
    {
        services.AddOptions<GatewayEventsOptions>().BindConfiguration(GatewayEventsOptions.SectionName).ValidateOnStart();
        // Silos co-hosting an edge (the embedded dev host) call this twice: one validator.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayEventsOptions>, GatewayEventsOptionsValidator>());
        return services;
    }
}

/// <summary>
/// Where a silo's client grains hand their lifecycle events: the memory stream by default, a Kafka topic when Kafka is
/// configured (Streams.Kafka replaces this slot). Called at most <see cref="GatewayEventsOptions.MaxPendingPerClient"/>
/// times concurrently per client, each client's events one after the other.
/// </summary>
public interface ILifecycleEventPublisher
{
    /// <summary>Completes once the broker took the event.</summary>
    /// <exception cref="Exception">It could not: the caller logs, counts and drops it.</exception>
    Task PublishAsync(LifecycleEvent e);
}
