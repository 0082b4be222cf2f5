using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Restarts;

[Collection(GatewayCollection.Name)]
public sealed class SiloStopTests(GatewayCluster cluster)
{
    [Fact]
    public async Task StopSilo_OneOfThreeUnderTraffic_NothingLostAndSessionsSurviveMigration()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var third = await cluster.StartSiloAsync();
        await WaitForActiveSilosAsync(cluster, 3);
        await WaitForPlacementOnAsync(cluster, third);
        await using var traffic = await Traffic.StartAsync(cluster, 200, i => () => cluster.Edges[i % 2], run);
        traffic.Run(TimeSpan.FromMilliseconds(100));
        await WaitForClientGrainsOnAsync(cluster, third);
        await WaitForAckedAsync(traffic, 1_000);

        await cluster.StopSiloAsync(third);
        var acked = traffic.AckedCount;
        await WaitForAckedAsync(traffic, acked + 1_000);
        await traffic.StopSendingAsync();

        // Mailboxes (seq, retained messages) and attached sessions moved with the grains: nobody had to reconnect.
        await traffic.AssertNothingLostAsync(TimeSpan.FromSeconds(30));
        Assert.All(traffic.Clients, c => Assert.Equal(1, c.Connections));
    }
}
