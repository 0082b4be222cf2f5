using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Rebalancing;

/// <summary>Where an edge reports its connection count and learns every live edge's: narrow, so the rebalancer is testable without Orleans.</summary>
internal interface IEdgeLoadRegistry
{
    Task<EdgeLoad[]> ReportAsync(string edgeId, int connections, bool rebalances, TimeSpan ttl);
}

/// <summary>The cluster's <see cref="IEdgeLoadGrain"/>. Bounded by the edge's Orleans response timeout (<c>Gateway:Edge:CallTimeout</c>).</summary>
internal sealed class GrainEdgeLoadRegistry(IGrainFactory grains) : IEdgeLoadRegistry
{
    public Task<EdgeLoad[]> ReportAsync(string edgeId, int connections, bool rebalances, TimeSpan ttl) =>
        rebalances
            // The call edges of the previous release make (recorded as rebalancing): a rebalancing edge rolled before
            // the silos keeps rebalancing with silos that do not know ReportLoad yet.
            ? grains.GetGrain<IEdgeLoadGrain>(0).ReportAsync(edgeId, connections, ttl)
            : grains.GetGrain<IEdgeLoadGrain>(0).ReportLoadAsync(new EdgeLoad(edgeId, connections, Rebalances: false), ttl);
}
