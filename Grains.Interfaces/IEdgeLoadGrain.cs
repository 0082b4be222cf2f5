namespace OrleansGateway.Grains;

/// <summary>
/// The cluster's view of how many WebSocket connections each edge holds (one activation, key 0), so an edge can tell
/// whether it holds clearly more than its share and shed the excess (<c>Gateway:Rebalance</c>). Each edge with
/// rebalancing on reports its count periodically and gets every live edge's last report back in the same call.
/// </summary>
[Alias("ogw.IEdgeLoadGrain")]
public interface IEdgeLoadGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Records that <paramref name="edgeId"/> holds <paramref name="connections"/> sessions now; the report counts for
    /// <paramref name="ttl"/> (an edge that stops reporting, stopped or crashed, drops out after it).
    /// </summary>
    /// <returns>The current report of every edge whose report is live, this one's included.</returns>
    [Alias("Report")]
    Task<EdgeLoad[]> ReportAsync(string edgeId, int connections, TimeSpan ttl);

    /// <summary>The current report of every edge whose report is live, without reporting (the server API's cluster info).</summary>
    [Alias("GetLoads")]
    Task<EdgeLoad[]> GetLoadsAsync();
}

/// <summary>One edge's last reported connection count.</summary>
/// <param name="EdgeId">The edge instance id (one per edge process).</param>
/// <param name="Connections">WebSocket sessions it held when it reported.</param>
[GenerateSerializer, Immutable, Alias("ogw.EdgeLoad")]
public sealed record EdgeLoad(
    [property: Id(0)] string EdgeId,
    [property: Id(1)] int Connections);
