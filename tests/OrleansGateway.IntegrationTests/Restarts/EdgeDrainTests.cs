using System.Net;
using OrleansGateway.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Restarts;

[Collection(GatewayCollection.Name)]
public sealed class EdgeDrainTests(GatewayCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task Drain_EdgeUnderTrafficWith200Clients_AllMoveToOtherEdgeNothingLost()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var edge1 = await cluster.StartEdgeAsync(DrainSettings());
        var edge2 = await cluster.StartEdgeAsync(DrainSettings());
        var draining = false;
        await using var traffic = await Traffic.StartAsync(cluster, 200, i => () => draining || i % 2 == 1 ? edge2 : edge1, run);
        Assert.Equal(100, traffic.Clients.Count(c => c.Edge == edge1));
        traffic.Run(TimeSpan.FromMilliseconds(100));
        await WaitForAckedAsync(traffic, 1_000);

        draining = true;
        await DrainAsync(edge1);

        // A draining edge refuses new upgrades with 503 + Retry-After. An admin drain never stops the process, so the
        // edge is still listening: exactly that answer, never "no response".
        var (status, retryAfter) = await TestClient.TryConnectAsync(edge1, $"access_token={cluster.Tokens.Hs256($"late-{run}")}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("5", retryAfter); // Gateway:Edge:RetryAfterSeconds, default

        await GatewayClusterExtensions.EventuallyAsync(
            () => Task.FromResult(traffic.Clients.All(c => c.IsConnected && c.Edge == edge2)), TimeSpan.FromSeconds(30), "every client on edge 2");
        var acked = traffic.AckedCount;
        await WaitForAckedAsync(traffic, acked + 1_000);
        await traffic.StopSendingAsync();

        // No err expected: the silos stay, and a drain answers what its sessions sent before closing them.
        output.WriteLine(await traffic.AssertNothingLostAsync(TimeSpan.FromSeconds(30)));
        Assert.All(traffic.Clients.Where((_, i) => i % 2 == 0), c => Assert.True(c.Connections >= 2, $"{c.ClientId} never moved"));
        Assert.All(traffic.Clients, c => Assert.Equal(0, c.NotRecovered));
    }
}
