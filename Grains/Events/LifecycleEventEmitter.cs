using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Grains.Events;

/// <summary>
/// The silo's side of lifecycle events: which kinds are on, and one publish that never throws (a failure is logged,
/// counted in <c>ogw.events.failed</c> and the event dropped: the connection it describes is never slowed or failed for
/// it). The broker's own client retries first: Kafka's producer until its message timeout, the memory stream not at all.
/// Client grains order the calls (<c>ClientGrain.Events.cs</c>).
/// </summary>
internal sealed partial class LifecycleEventEmitter
{
    private readonly GatewayEventsOptions _options;
    private readonly ILifecycleEventPublisher _publisher;
    private readonly ILogger<LifecycleEventEmitter> _logger;
    private readonly Counter<long> _published;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _dropped;

    public LifecycleEventEmitter(IOptions<GatewayEventsOptions> options, ILifecycleEventPublisher publisher, ILogger<LifecycleEventEmitter> logger, IMeterFactory meterFactory)
    {
        _options = options.Value;
        _publisher = publisher;
        _logger = logger;
        var meter = meterFactory.Create(Edges.GrainMetrics.MeterName);
        _published = meter.CreateCounter<long>("ogw.events.published", "{event}", "Lifecycle events the broker took, by kind");
        _failed = meter.CreateCounter<long>("ogw.events.failed", "{event}", "Lifecycle events the broker refused or did not take in time (dropped), by kind");
        _dropped = meter.CreateCounter<long>("ogw.events.dropped", "{event}", "Lifecycle events dropped unsent: too many of one client already waiting for the broker, by kind");
    }

    public int MaxPendingPerClient => _options.MaxPendingPerClient;

    /// <summary>True when <paramref name="kind"/> is turned on (<see cref="GatewayEventsOptions.Kinds"/>).</summary>
    public bool Produces(LifecycleEventKinds kind) => _options.Produces(kind);

    /// <summary>Hands <paramref name="e"/> to the broker; completes when it took it or gave up. Never throws.</summary>
    public async Task PublishAsync(LifecycleEvent e)
    {
        try
        {
            await _publisher.PublishAsync(e);
            _published.Add(1, new KeyValuePair<string, object?>("kind", LifecycleEvents.Name(e.Kind)));
        }
        catch (Exception ex)
        {
            // Dropped, not retried here: the broker's client already retried (Kafka), and a backend that must not miss a
            // session's end reconciles through presence (docs/events.md, "Delivery").
            _failed.Add(1, new KeyValuePair<string, object?>("kind", LifecycleEvents.Name(e.Kind)));
            Log.PublishFailed(_logger, ex, LifecycleEvents.Name(e.Kind), e.ClientId);
        }
    }

    /// <summary>Counts and logs an event not sent because too many of its client's were waiting.</summary>
    public void Dropped(LifecycleEvent e)
    {
        _dropped.Add(1, new KeyValuePair<string, object?>("kind", LifecycleEvents.Name(e.Kind)));
        Log.TooManyPending(_logger, LifecycleEvents.Name(e.Kind), e.ClientId, _options.MaxPendingPerClient);
    }

    private static partial class Log
    {
        [LoggerMessage(1500, LogLevel.Warning, "Lifecycle event {Kind} of client {ClientId} could not be published; dropped", EventName = "LifecycleEventFailed")]
        public static partial void PublishFailed(ILogger logger, Exception exception, string kind, string clientId);

        [LoggerMessage(1501, LogLevel.Warning, "Lifecycle event {Kind} of client {ClientId} dropped: {MaxPending} of its events already wait for the broker", EventName = "LifecycleEventDropped")]
        public static partial void TooManyPending(ILogger logger, string kind, string clientId, int maxPending);
    }
}
