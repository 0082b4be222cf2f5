using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.Rebalancing;

[Collection(GatewayCollection.Name)]
public sealed class ConnectionRebalancingTests(GatewayCluster cluster, ITestOutputHelper output)
{
    private const string Shed = "ogw_edge_rebalance_shed_total";

    /// <summary>Rebalancing scaled for tests: a round a second, small batches, short reconnect delays, no floor.</summary>
    private static Dictionary<string, string?> RebalanceSettings() => new()
    {
        ["Gateway:Rebalance:Enabled"] = "true",
        ["Gateway:Rebalance:Interval"] = "00:00:01",
        ["Gateway:Rebalance:Tolerance"] = "0.2",
        ["Gateway:Rebalance:MinConnections"] = "0",
        ["Gateway:Rebalance:BatchSize"] = "8",
        ["Gateway:Rebalance:MaxReconnectDelay"] = "00:00:00.300",
    };

    [Fact]
    public async Task Rebalance_40ClientsAllOnOneOfTwoEdges_AboutHalfMoveAndStayNothingLostNoStorm()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        // The fixture's own edges have rebalancing off: they neither report nor count. These two are the ones compared.
        var edge1 = await cluster.StartEdgeAsync(RebalanceSettings());
        var edge2 = await cluster.StartEdgeAsync(RebalanceSettings());
        var shedBefore = await ShedAsync(edge1, edge2); // each edge exports its own sheds

        // Every client starts on edge 1 and, like the SDKs' url list, reconnects to the next url: the other edge.
        await using var traffic = await Traffic.StartAsync(cluster, 40, _ => NextUrl(edge1, edge2), run);
        traffic.Run(TimeSpan.FromMilliseconds(100));

        await GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(
            traffic.Clients.All(c => c.IsConnected) && On(traffic, edge1) is >= 16 and <= 24 && On(traffic, edge2) is >= 16 and <= 24),
            TimeSpan.FromSeconds(30), "both edges within 20 % of the mean (20)");
        traffic.Mark($"balanced: {On(traffic, edge1)} / {On(traffic, edge2)}");

        // And it stays so: three more rounds on each edge move nobody (observing an absence takes the time it spans).
        var connections = traffic.Clients.Sum(c => c.Connections);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(connections == traffic.Clients.Sum(c => c.Connections), string.Join("\n", traffic.Clients.Select(c => c.ClientId + ": " + string.Join(", ", c.Events))));
        Assert.Equal(40, On(traffic, edge1) + On(traffic, edge2));

        var acked = traffic.AckedCount;
        await WaitForAckedAsync(traffic, acked + 400);
        await traffic.StopSendingAsync();
        // No err expected: shedding moves connections only; every send on a shed connection is answered before it closes.
        output.WriteLine(await traffic.AssertNothingLostAsync(TimeSpan.FromSeconds(30)));
        Assert.All(traffic.Clients, c => Assert.Equal(0, c.NotRecovered));

        // No storm: nobody moved more than twice (once away, at most once back after an overshooting round), and every
        // reconnect was one the metric counted as shed: exactly, so double counting fails too.
        Assert.All(traffic.Clients, c => Assert.InRange(c.Connections, 1, 3));
        var reconnects = traffic.Clients.Sum(c => c.Connections - 1);
        Assert.InRange(reconnects, 16, 32);
        var events = string.Join("\n", traffic.Clients.Select(c => c.ClientId + ": " + string.Join(", ", c.Events)));
        var byes = traffic.Clients.Sum(c => c.Events.Count(e => e.EndsWith(" bye draining", StringComparison.Ordinal)));
        Assert.True(byes == reconnects, $"{reconnects} reconnects but {byes} bye draining:\n{events}");
        double shed = 0;
        await GatewayClusterExtensions.EventuallyAsync(async () => (shed = await ShedAsync(edge1, edge2) - shedBefore) == byes,
            TimeSpan.FromSeconds(10), $"{Shed} to grow by exactly {byes} (the byes the clients got; last read {shed}):\n{events}");
    }

    private static async Task<double> ShedAsync(Uri edge1, Uri edge2) => await Prometheus.ReadAsync(edge1, Shed) + await Prometheus.ReadAsync(edge2, Shed);

    private static int On(Traffic traffic, Uri edge) => traffic.Clients.Count(c => c.IsConnected && c.Edge == edge);

    /// <summary>First <paramref name="first"/>, then alternating on every (re)connect.</summary>
    private static Func<Uri> NextUrl(Uri first, Uri second)
    {
        Uri? last = null;
        return () => last = last == first ? second : first;
    }
}
