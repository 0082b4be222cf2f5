using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrleansGateway.Grains.Mailboxes;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// What client and channel grains share: the edges they push to, staying alive while edges are attached
/// (that state lives only here) or while retained messages are within their age, and migrating on a
/// graceful silo stop.
/// </summary>
internal abstract class FanoutGrain : Grain, IStreamSubscriptionObserver
{
    private const string InboundKey = "inbound";

    private readonly RetentionOptions _retention;
    private IGrainTimer? _sweep;

    protected FanoutGrain(RetentionOptions retention, EdgeLeaseCache leases, GrainMetrics metrics, ILogger logger)
    {
        _retention = retention;
        Metrics = metrics;
        Edges = new EdgeSet(leases, logger);
    }

    protected EdgeSet Edges { get; }

    protected GrainMetrics Metrics { get; }

    /// <summary>The metric dimension of this grain kind (<c>client</c>, <c>channel</c>).</summary>
    protected abstract string Kind { get; }

    /// <summary>Backend messages already accepted, per Kafka partition.</summary>
    protected InboundDeduplicator Inbound { get; } = new();

    protected string Key => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        UpdateKeepAlive();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (reason.ReasonCode == DeactivationReasonCode.ShuttingDown)
        {
            // A graceful silo stop does not migrate by itself (notes/orleans.md §3): ask for it; subclasses carry
            // their state through IGrainMigrationParticipant.
            this.MigrateOnIdle();
        }

        return Task.CompletedTask;
    }

    /// <summary>Attaches the implicit subscription to the inbound backend stream of this grain's key.</summary>
    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<InboundMessage>().ResumeAsync(
            (message, _) =>
            {
                if (Inbound.TryAccept(message))
                {
                    return AcceptInboundAsync(message);
                }

                Metrics.InboundDuplicate();
                return Task.CompletedTask;
            });

    /// <summary>Appends a backend message (mailbox or channel) and pushes it; returns once accepted.</summary>
    protected abstract Task AcceptInboundAsync(InboundMessage message);

    protected void DehydrateInbound(IDehydrationContext context) => context.TryAddValue(InboundKey, Inbound.ToSnapshot());

    protected void RehydrateInbound(IRehydrationContext context)
    {
        Metrics.Migrated(Kind);
        if (context.TryGetValue(InboundKey, out Dictionary<string, long>? positions) && positions is not null)
        {
            Inbound.Restore(positions);
        }
    }

    /// <summary>Drops edges whose lease lapsed and adjusts the keep-alive.</summary>
    protected async Task PruneAsync()
    {
        if (await Edges.PruneAsync(Key))
        {
            UpdateKeepAlive();
        }
    }

    /// <summary>
    /// With edges attached the grain must stay, and a timer sweeps dead edges; without, it only has to outlive
    /// its retention window (a message to an offline client waits there).
    /// </summary>
    protected void UpdateKeepAlive()
    {
        if (Edges.EdgeCount > 0)
        {
            DelayDeactivation(Timeout.InfiniteTimeSpan);
            _sweep ??= this.RegisterGrainTimer(
                static (grain, _) => grain.PruneAsync(),
                this,
                new GrainTimerCreationOptions(_retention.SessionSweepInterval, _retention.SessionSweepInterval) { Interleave = false });
        }
        else
        {
            _sweep?.Dispose();
            _sweep = null;
            DelayDeactivation(TimeSpan.Zero);
            DelayDeactivation(_retention.MaxAge);
        }
    }
}
