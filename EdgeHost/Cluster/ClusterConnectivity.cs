namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// Whether this edge's Orleans client has any gateway connection (Orleans tells us through
/// <see cref="IClusterConnectionStatusObserver"/>). A failing lease renewal alone is not a partition: the lease grain's
/// silo may have crashed while every other silo is fine.
/// </summary>
internal sealed class ClusterConnectivity(TimeProvider time) : IClusterConnectionStatusObserver
{
    private long _disconnectedSinceTicks = -1;

    /// <summary>How long the client has had no gateway at all; zero while connected (or co-hosted with a silo).</summary>
    public TimeSpan DisconnectedFor
    {
        get
        {
            var since = Interlocked.Read(ref _disconnectedSinceTicks);
            return since < 0 ? TimeSpan.Zero : time.GetUtcNow() - new DateTimeOffset(since, TimeSpan.Zero);
        }
    }

    public void NotifyClusterConnectionLost() => MarkDisconnected();

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways > 0)
        {
            Interlocked.Exchange(ref _disconnectedSinceTicks, -1);
        }
        else
        {
            MarkDisconnected();
        }
    }

    private void MarkDisconnected() => Interlocked.CompareExchange(ref _disconnectedSinceTicks, time.GetUtcNow().UtcTicks, -1);
}
