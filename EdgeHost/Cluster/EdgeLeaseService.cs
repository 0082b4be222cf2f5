using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// Creates the edge's one observer reference and keeps its lease renewed. If renewals fail for longer than
/// the TTL, grains may already have dropped this edge's sessions: the edge then tells its clients to
/// reconnect (elsewhere) rather than black-holing them.
/// </summary>
internal sealed partial class EdgeLeaseService(
    IGrainFactory grains,
    EdgeObserver observer,
    LocalEdge lease,
    SessionRegistry registry,
    ChannelSubscriptions channels,
    ClusterConnectivity connectivity,
    GrainCallPolicy calls,
    IOptions<EdgeLeaseOptions> options,
    TimeProvider time,
    ILogger<EdgeLeaseService> logger) : BackgroundService
{
    private IEdgeObserver? _reference;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ttl = options.Value.Ttl;
        _reference = grains.CreateObjectReference<IEdgeObserver>(observer);
        lease.SetReference(_reference);
        var edge = grains.GetGrain<IEdgeGrain>(lease.EdgeId);
        DateTimeOffset? lastRenewed = null;
        var refreshing = Task.CompletedTask;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            try
            {
                var continuous = await calls.OnceAsync(edge.RenewLeaseAsync(_reference, ttl), ttl, stoppingToken);
                if (!continuous && lastRenewed is not null)
                {
                    // The lease expired in between and grains may have dropped our sessions: make them resume.
                    Log.LeaseLapsed(logger, lease.EdgeId);
                    CloseAllSessions();
                }

                lastRenewed = now;
                lease.SetHeld(true);

                // A channel grain re-activated after a silo crash has forgotten its edges: re-register now and then. In
                // the background: however slow the channels answer, renewals must go on, or the lease would lapse.
                if (refreshing.IsCompleted)
                {
                    refreshing = channels.RefreshAsync(ttl * 3, stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.RenewFailed(logger, ex, lease.EdgeId);
                if (lastRenewed is null || connectivity.DisconnectedFor > ttl)
                {
                    // Cut off from every silo for longer than a lease: stop accepting, and tell clients to go
                    // elsewhere rather than black-holing them.
                    lease.SetHeld(false);
                    CloseAllSessions();
                }
            }

            await Task.Delay(lastRenewed == now ? options.Value.RenewInterval : TimeSpan.FromMilliseconds(500), time, stoppingToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        lease.SetHeld(false);
        if (_reference is null)
        {
            return;
        }

        try
        {
            await calls.OnceAsync(grains.GetGrain<IEdgeGrain>(lease.EdgeId).ReleaseLeaseAsync(), TimeSpan.FromSeconds(2), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Best effort: an unreleased lease simply lapses after its TTL.
            Log.ReleaseFailed(logger, ex, lease.EdgeId);
        }

        grains.DeleteObjectReference<IEdgeObserver>(_reference);
    }

    private void CloseAllSessions()
    {
        foreach (var session in registry.Snapshot())
        {
            session.RequestClose(CloseReason.Draining, Random.Shared.Next(500, 3000));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Warning, "Renewing the lease of edge {EdgeId} failed", EventName = "LeaseRenewFailed")]
        public static partial void RenewFailed(ILogger logger, Exception exception, string edgeId);

        [LoggerMessage(401, LogLevel.Warning, "The lease of edge {EdgeId} lapsed; asking every session to reconnect", EventName = "LeaseLapsed")]
        public static partial void LeaseLapsed(ILogger logger, string edgeId);

        [LoggerMessage(402, LogLevel.Debug, "Releasing the lease of edge {EdgeId} failed", EventName = "LeaseReleaseFailed")]
        public static partial void ReleaseFailed(ILogger logger, Exception exception, string edgeId);
    }
}
