namespace OrleansGateway.Grains;

/// <summary>
/// The cluster's view of how many WebSocket connections each edge holds (one activation, key 0): the server API's
/// cluster info, and for an edge with <c>Gateway:Rebalance</c> on, whether it holds clearly more than its share and
/// sheds the excess. Every edge reports its count periodically and gets every live edge's last report back in the
/// same call.
/// </summary>
[Alias("ogw.IEdgeLoadGrain")]
public interface IEdgeLoadGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Records that <paramref name="edgeId"/> holds <paramref name="connections"/> sessions now; the report counts for
    /// <paramref name="ttl"/> (an edge that stops reporting, stopped or crashed, drops out after it).
    /// </summary>
    /// <returns>The current report of every edge whose report is live, this one's included.</returns>
    /// <remarks>What edges of earlier releases call (only those with rebalancing on did): recorded as rebalancing.</remarks>
    [Alias("Report")]
    Task<EdgeLoad[]> ReportAsync(string edgeId, int connections, TimeSpan ttl);

    /// <summary>
    /// Records <paramref name="load"/> (an edge's count, and whether it rebalances); it counts for <paramref name="ttl"/>.
    /// </summary>
    /// <returns>The current report of every edge whose report is live, this one's included.</returns>
    [Alias("ReportLoad")]
    Task<EdgeLoad[]> ReportLoadAsync(EdgeLoad load, TimeSpan ttl);

    /// <summary>The current report of every edge whose report is live, without reporting (the server API's cluster info).</summary>
    [Alias("GetLoads")]
    Task<EdgeLoad[]> GetLoadsAsync();
}

/// <summary>One edge's last reported connection count.</summary>
/// <param name="EdgeId">The edge instance id (one per edge process).</param>
/// <param name="Connections">WebSocket sessions it held when it reported.</param>
/// <param name="Rebalances">
/// Whether the edge has <c>Gateway:Rebalance</c> on: rebalancing edges share their connections among themselves, so an
/// edge that never sheds (nor reports a share of its own to shed towards) does not pull their mean down.
/// </param>
[GenerateSerializer, Immutable, Alias("ogw.EdgeLoad")]
public sealed record EdgeLoad(
    [property: Id(0)] string EdgeId,
    [property: Id(1)] int Connections,
    [property: Id(2)] bool Rebalances = true);
