using Microsoft.Extensions.Options;

namespace OrleansGateway.Grains.Edges;

/// <summary>Holds one edge's lease. Small state; migrates with its silo like the client grains.</summary>
internal sealed class EdgeGrain : Grain, IEdgeGrain, IGrainMigrationParticipant
{
    private const string StateKey = "lease";
    private readonly TimeProvider _time;
    private EdgeLease _lease;

    public EdgeGrain(TimeProvider time, IOptions<EdgeLeaseOptions> options)
    {
        _time = time;
        // A new activation after a silo crash knows nothing: give the edge one TTL to renew rather than
        // declaring a live edge dead and dropping all its sessions.
        _lease = new EdgeLease(null, time.GetUtcNow() + options.Value.Ttl);
    }

    public Task<bool> RenewLeaseAsync(IEdgeObserver observer, TimeSpan ttl)
    {
        var now = _time.GetUtcNow();
        var continuous = _lease.ExpiresAt > now;
        _lease = new EdgeLease(observer, now + ttl);
        return Task.FromResult(continuous);
    }

    public Task ReleaseLeaseAsync()
    {
        _lease = new EdgeLease(null, DateTimeOffset.MinValue);
        return Task.CompletedTask;
    }

    public Task<EdgeLease> GetLeaseAsync() => Task.FromResult(_lease);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (reason.ReasonCode == DeactivationReasonCode.ShuttingDown)
        {
            this.MigrateOnIdle();
        }

        return Task.CompletedTask;
    }

    public void OnDehydrate(IDehydrationContext dehydrationContext) => dehydrationContext.TryAddValue(StateKey, _lease);

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (rehydrationContext.TryGetValue(StateKey, out EdgeLease? lease) && lease is not null)
        {
            _lease = lease;
        }
    }
}
