using Microsoft.Extensions.DependencyInjection;
using OrleansGateway.Grains.Edges;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains;

/// <summary>
/// Migration: on a graceful silo stop the grain moves with its log, its edges and sessions, its inbound positions and
/// its idempotency keys (<c>keys</c>, only when it has some).
/// The keys are the wire shape between silos of different releases during a rolling deploy: keep them.
/// </summary>
internal abstract partial class MessageLogGrain : IGrainMigrationParticipant
{
    private const string InboundKey = "inbound";

    // True when this activation arrived by migration: its memory copy is current, the durable one is not reloaded.
    private bool _rehydrated;

    /// <summary>The migration key of the log (<c>mailbox</c>, <c>history</c>).</summary>
    protected abstract string LogMigrationKey { get; }

    /// <summary>The migration key of the edges and sessions (<c>sessions</c>, <c>edges</c>).</summary>
    protected abstract string EdgesMigrationKey { get; }

    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        dehydrationContext.TryAddValue(InboundKey, _inbound?.ToSnapshot() ?? new Dictionary<string, long>(StringComparer.Ordinal));
        dehydrationContext.TryAddValue(LogMigrationKey, MessageLog.ToSnapshot());
        dehydrationContext.TryAddValue(EdgesMigrationKey, Edges.ToSnapshot());
        DehydrateKeys(dehydrationContext);
        Dehydrate(dehydrationContext);
    }

    /// <summary>What a kind of grain carries beside its log, edges and keys.</summary>
    protected virtual void Dehydrate(IDehydrationContext context)
    {
    }

    /// <summary>Takes back what <see cref="Dehydrate"/> carried.</summary>
    protected virtual void Rehydrate(IRehydrationContext context)
    {
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        _rehydrated = true;
        Metrics.Migrated(Kind);
        if (rehydrationContext.TryGetValue(InboundKey, out Dictionary<string, long>? positions) && positions is { Count: > 0 })
        {
            Inbound.Restore(positions);
        }

        if (rehydrationContext.TryGetValue(LogMigrationKey, out MessageLogSnapshot? log) && log is not null)
        {
            MessageLog = NewLog(log);
        }

        if (rehydrationContext.TryGetValue(EdgesMigrationKey, out EdgeSessionsSnapshot[]? edges) && edges is not null)
        {
            Edges.Restore(edges);
        }

        RehydrateKeys(rehydrationContext);
        Rehydrate(rehydrationContext);
    }

    private void MigrateIfShuttingDown(DeactivationReason reason)
    {
        if (reason.ReasonCode == DeactivationReasonCode.ShuttingDown && OtherSilosActive())
        {
            // A graceful silo stop does not migrate by itself: ask for it (the state travels through OnDehydrate).
            // The last silo has nowhere to go: it just stops.
            this.MigrateOnIdle();
        }
    }

    private bool OtherSilosActive()
    {
        var oracle = ServiceProvider.GetRequiredService<ISiloStatusOracle>();
        return oracle.GetApproximateSiloStatuses(onlyActive: true).Keys.Any(silo => !silo.Equals(oracle.SiloAddress));
    }
}
