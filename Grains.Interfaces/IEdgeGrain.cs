namespace OrleansGateway.Grains;

/// <summary>
/// The lease of one edge process (key = edge instance id). The edge renews it well before it lapses;
/// grains consult it when their cached copy has lapsed and drop the sessions of an edge whose lease is gone.
/// </summary>
[Alias("ogw.IEdgeGrain")]
public interface IEdgeGrain : IGrainWithStringKey
{
    /// <summary>Renews the lease for <paramref name="ttl"/> from now and records the edge's current observer.</summary>
    /// <returns>
    /// False when the previous lease had already expired: grains may have dropped this edge's sessions meanwhile,
    /// so the edge must make its clients resume.
    /// </returns>
    [Alias("Renew")]
    Task<bool> RenewLeaseAsync(IEdgeObserver observer, TimeSpan ttl);

    /// <summary>Ends the lease now (graceful edge shutdown).</summary>
    [Alias("Release")]
    Task ReleaseLeaseAsync();

    /// <summary>The current lease; <see cref="EdgeLease.ExpiresAt"/> in the past when there is none.</summary>
    [Alias("Get")]
    Task<EdgeLease> GetLeaseAsync();
}
