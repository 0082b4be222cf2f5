using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrleansGateway.Grains.Mailboxes;
using StackExchange.Redis;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// What client and channel grains share: the edges they push to, staying alive while edges are attached
/// (that state lives only here) or while retained messages are within their age, and migrating on a
/// graceful silo stop.
/// </summary>
internal abstract class FanoutGrain : Grain, IStreamSubscriptionObserver, IEdgeSetOwner
{
    private const string InboundKey = "inbound";

    private readonly RetentionOptions _retention;
    private readonly MailboxStoreFactory _stores;
    private readonly EdgeSweeper _sweeper;
    private IMailboxStore? _store;
    private bool _rehydrated;
    private InboundPosition? _accepting;
    private bool _echoPending;

    protected FanoutGrain(RetentionOptions retention, EdgeLeaseCache leases, GrainMetrics metrics, MailboxStoreFactory stores, EdgeSweeper sweeper, ILogger logger)
    {
        _retention = retention;
        _stores = stores;
        _sweeper = sweeper;
        Metrics = metrics;
        Edges = new EdgeSet(leases, this, logger);
    }

    protected EdgeSet Edges { get; }

    protected GrainMetrics Metrics { get; }

    /// <summary>The metric dimension of this grain kind (<c>client</c>, <c>channel</c>).</summary>
    protected abstract string Kind { get; }

    /// <summary>Backend messages already accepted, per Kafka partition.</summary>
    protected InboundDeduplicator Inbound { get; } = new();

    protected string Key => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_stores.Durability != MailboxDurability.Memory)
        {
            _store = await _stores.GetAsync();
            if (!_rehydrated)
            {
                // A crash (or an idle deactivation) lost the memory copy: the durable one is the truth.
                StoredLog stored;
                try
                {
                    stored = await _store!.LoadAsync(Kind, Key);
                }
                catch (RedisException ex)
                {
                    throw new MailboxStoreException($"loading {Kind} {Key} failed", ex);
                }

                if (stored.Log is not null)
                {
                    Restore(stored.Log);
                }

                Inbound.Merge(stored.InboundPositions);
            }
        }

        UpdateKeepAlive();
    }

    /// <summary>Replaces the in-memory log with one loaded from the durable store.</summary>
    protected abstract void Restore(MailboxSnapshot snapshot);

    /// <summary>
    /// Appends to <paramref name="log"/> and, with durability, persists before returning; if persisting fails the
    /// append is undone and the caller's send fails (never acknowledged, so nothing is lost).
    /// </summary>
    protected async Task<MailboxMessage> AppendAsync(Mailbox log, string from, byte[] data)
    {
        var message = log.Append(from, data);
        if (_store is not null)
        {
            try
            {
                await _store.AppendAsync(Kind, Key, message, _retention.MaxMessages, _retention.MaxAge, _accepting);
            }
            catch (RedisException ex)
            {
                log.RemoveLast(message);
                throw new MailboxStoreException($"persisting to {Kind} {Key} failed", ex);
            }
        }

        Metrics.Accepted(Kind);
        return message;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Whatever happens next (migration re-tracks on the new silo), this activation no longer pushes from here.
        foreach (var edgeId in Edges.EdgeIds)
        {
            _sweeper.Untrack(edgeId, this.GetGrainId());
        }

        _sweeper.CancelRepush(this.GetGrainId()); // a poke would only re-activate it

        if (reason.ReasonCode == DeactivationReasonCode.ShuttingDown && OtherSilosActive())
        {
            // A graceful silo stop does not migrate by itself (notes/orleans.md §3): ask for it; subclasses carry
            // their state through IGrainMigrationParticipant. (The last silo has nowhere to go: it just stops.)
            this.MigrateOnIdle();
        }

        return Task.CompletedTask;
    }

    private bool OtherSilosActive()
    {
        var oracle = ServiceProvider.GetRequiredService<ISiloStatusOracle>();
        return oracle.GetApproximateSiloStatuses(onlyActive: true).Keys.Any(silo => !silo.Equals(oracle.SiloAddress));
    }

    /// <summary>Attaches the implicit subscription to the inbound backend stream of this grain's key.</summary>
    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<InboundMessage>().ResumeAsync((message, _) => OnInboundAsync(message));

    private async Task OnInboundAsync(InboundMessage message)
    {
        if (Inbound.IsDuplicate(message))
        {
            Metrics.InboundDuplicate();
            return;
        }

        using var span = GrainTracing.StartInbound(Kind, message);

        // The grain is not reentrant, so the one append this causes is the one that persists the position with it.
        _accepting = message.Source is { } source ? new InboundPosition(source, message.Position) : null;
        try
        {
            await AcceptInboundAsync(message);
        }
        finally
        {
            _accepting = null;
        }

        // Only now: a message whose append failed is redelivered, and must not be taken for a duplicate then.
        Inbound.Accepted(message);
    }

    /// <summary>Appends a backend message (mailbox or channel) and pushes it; returns once accepted.</summary>
    protected abstract Task AcceptInboundAsync(InboundMessage message);

    protected void DehydrateInbound(IDehydrationContext context) => context.TryAddValue(InboundKey, Inbound.ToSnapshot());

    protected void RehydrateInbound(IRehydrationContext context)
    {
        _rehydrated = true;
        Metrics.Migrated(Kind);
        if (context.TryGetValue(InboundKey, out Dictionary<string, long>? positions) && positions is not null)
        {
            Inbound.Restore(positions);
        }
    }

    /// <summary>
    /// Pushes to every attached edge. With none, the message just waits in retention, so the grain must outlive it.
    /// The keep-alive is only touched when something changed: this runs once per message.
    /// </summary>
    protected async Task PushAsync<TArg>(Func<string, IEdgeObserver, TArg, Task> push, TArg arg)
    {
        if (Edges.EdgeCount == 0)
        {
            DelayDeactivation(_retention.MaxAge);
        }
        else if (await Edges.PushAsync(push, arg, Key))
        {
            UpdateKeepAlive();
        }
    }

    /// <summary>
    /// After pushing a message: the silo's sweep will have this grain push its newest message once more, so a
    /// lost push that was the last before a quiet period is repaired within a sweep interval.
    /// </summary>
    protected void RepushLater()
    {
        if (!_echoPending && Edges.EdgeCount > 0)
        {
            _echoPending = true;
            _sweeper.RepushLater(this.GetGrainId(), Kind == "channel");
        }
    }

    /// <summary>The sweep's repush is being served: later pushes ask for a new one.</summary>
    protected void RepushServed() => _echoPending = false;

    /// <summary>Drops edges whose lease lapsed and adjusts the keep-alive.</summary>
    protected async Task PruneAsync()
    {
        if (await Edges.PruneAsync(Key))
        {
            UpdateKeepAlive();
        }
    }

    /// <summary>
    /// With edges attached the grain must stay (the silo's <see cref="EdgeSweeper"/> pokes it if they die);
    /// without, it only has to outlive its retention window (a message to an offline client waits there).
    /// </summary>
    protected void UpdateKeepAlive()
    {
        if (Edges.EdgeCount > 0)
        {
            DelayDeactivation(Timeout.InfiniteTimeSpan);
        }
        else
        {
            DelayDeactivation(TimeSpan.Zero);
            DelayDeactivation(_retention.MaxAge);
        }
    }

    void IEdgeSetOwner.EdgeAdded(string edgeId) => _sweeper.Track(edgeId, this.GetGrainId(), Kind == "channel");

    void IEdgeSetOwner.EdgeRemoved(string edgeId) => _sweeper.Untrack(edgeId, this.GetGrainId());
}
