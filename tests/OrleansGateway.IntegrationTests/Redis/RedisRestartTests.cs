using OrleansGateway.IntegrationTests.Fixtures;
using OrleansGateway.IntegrationTests.Restarts;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.Redis;

public sealed class RedisRestartTests(PersistentRedisCluster cluster, ITestOutputHelper output) : IClassFixture<PersistentRedisCluster>
{
    [Fact]
    public async Task Redis_RestartedUnderTraffic_ClusterKeepsServingNothingLostAndMembershipWorksAfter()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var traffic = await Traffic.StartAsync(cluster, 60, i => () => cluster.Edges[i % 2], run);
        traffic.Run(TimeSpan.FromMilliseconds(100));
        await RestartTestSupport.WaitForAckedAsync(traffic, 300);

        cluster.Server.Stop();
        try
        {
            // While Redis is away, messaging between running silos and edges goes on (membership is only read
            // and written on changes and on its refresh period).
            var acked = traffic.AckedCount;
            await RestartTestSupport.WaitForAckedAsync(traffic, acked + 300);
        }
        finally
        {
            cluster.Server.Restart();
        }

        // After it returns (with its data: append-only file), membership changes work again: a new silo joins.
        await cluster.StartSiloAsync();
        await RestartTestSupport.WaitForActiveSilosAsync(cluster, 3);
        var afterJoin = traffic.AckedCount;
        await RestartTestSupport.WaitForAckedAsync(traffic, afterJoin + 300);

        await traffic.StopSendingAsync();
        // No err expected: Redis holds membership only here (mailboxes in memory), and membership is not read per message.
        output.WriteLine(await traffic.AssertNothingLostAsync(TimeSpan.FromSeconds(30)));
        Assert.All(traffic.Clients, c => Assert.Equal(1, c.Connections));
    }
}
