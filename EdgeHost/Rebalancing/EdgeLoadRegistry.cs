using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Rebalancing;

/// <summary>Where an edge reports its connection count and learns every live edge's: narrow, so the rebalancer is testable without Orleans.</summary>
internal interface IEdgeLoadRegistry
{
    Task<EdgeLoad[]> ReportAsync(string edgeId, int connections, TimeSpan ttl);
}

/// <summary>The cluster's <see cref="IEdgeLoadGrain"/>. Bounded by the edge's Orleans response timeout (<c>Gateway:Edge:CallTimeout</c>).</summary>
internal sealed class GrainEdgeLoadRegistry(IGrainFactory grains) : IEdgeLoadRegistry
{
    public Task<EdgeLoad[]> ReportAsync(string edgeId, int connections, TimeSpan ttl) =>
        grains.GetGrain<IEdgeLoadGrain>(0).ReportAsync(edgeId, connections, ttl);
}
