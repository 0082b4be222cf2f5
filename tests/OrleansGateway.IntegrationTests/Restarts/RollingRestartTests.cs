using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.Restarts;

public sealed class RollingRestartTests(ThreeSiloRedisCluster cluster, ITestOutputHelper output) : IClassFixture<ThreeSiloRedisCluster>
{
    [Fact]
    public async Task RollingRestart_EverySiloThenEveryEdgeUnderTraffic_NothingLost()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var live = (await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => cluster.StartEdgeAsync(DrainSettings())))).ToList();
        await using var traffic = await Traffic.StartAsync(cluster, 120, i => () => { var edges = live; return edges[Random.Shared.Next(edges.Count)]; }, run);
        traffic.Run(TimeSpan.FromMilliseconds(100));
        await WaitForAckedAsync(traffic, 500);

        // Silos, one by one: a replacement joins, then the old one stops gracefully and its grains migrate.
        foreach (var old in cluster.Silos.ToList())
        {
            traffic.Mark($"starting a silo to replace :{old.SiloPort}");
            var replacement = await cluster.StartSiloAsync();
            await WaitForActiveSilosAsync(cluster, 4);
            traffic.Mark($"stopping silo :{old.SiloPort}");
            await cluster.StopSiloAsync(old);
            await WaitForActiveSilosAsync(cluster, 3);
            traffic.Mark($"silo :{old.SiloPort} gone");
            var acked = traffic.AckedCount;
            await WaitForAckedAsync(traffic, acked + 300);
            _ = replacement;
        }

        // Edges, one by one: a replacement starts, the old one drains and exits.
        foreach (var old in live.ToList())
        {
            var replacement = await cluster.StartEdgeAsync(DrainSettings());
            live = [.. live.Where(e => e != old), replacement];
            traffic.Mark($"draining edge :{old.Port}");
            await DrainAsync(old);
            await GatewayClusterExtensions.EventuallyAsync(
                () => Task.FromResult(traffic.Clients.All(c => c.IsConnected && c.Edge != old)), TimeSpan.FromSeconds(30), "every client off the drained edge");
            var acked = traffic.AckedCount;
            await WaitForAckedAsync(traffic, acked + 300);
        }

        await traffic.StopSendingAsync();
        output.WriteLine(await traffic.AssertNothingLostAsync(TimeSpan.FromSeconds(30), new Dictionary<string, string>
        {
            // A send the edge had passed to a grain on the stopping silo can outlast the edge's call timeout (the
            // message was lost with the silo's shutdown): answered unavailable, sent again with its key, taken once.
            ["unavailable"] = "a call in flight to the stopping silo timed out at the edge",
        }));
        Assert.All(traffic.Clients, c => Assert.Equal(0, c.NotRecovered));
    }
}
