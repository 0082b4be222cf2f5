using System.Text.RegularExpressions;
using OrleansGateway.IntegrationTests.Fixtures;
using Orleans.Runtime;
using StackExchange.Redis;

namespace OrleansGateway.IntegrationTests.Redis;

public sealed class RedisClusteringTests(RedisGatewayCluster cluster) : IClassFixture<RedisGatewayCluster>
{
    [Fact]
    public async Task RedisMembership_TwoSilosTwoEdges_SendAcrossEdgesDeliversInOrder()
    {
        // Membership really is in Redis: both silos are in the cluster's hash. Silos other tests stopped stay there
        // (as dead entries), so each of the fixture's silos is looked for by its port.
        using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis!);
        var entries = await redis.GetDatabase().HashGetAllAsync($"ogw-tests/members/{cluster.ClusterId}");
        var silos = entries.Select(e => e.Name.ToString()).Where(n => n.StartsWith('S')).ToList();
        Assert.Equal(2, cluster.Silos.Count);
        Assert.All(cluster.Silos, s => Assert.Contains(silos, n => Regex.IsMatch(n, $@":{s.SiloPort}\D")));

        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"));
        await bob.WaitForFrameAsync("welcome");
        for (var i = 0; i < 30; i++)
        {
            await alice.SendAsync($"bob-{run}", i.ToString());
        }

        await bob.WaitForMessagesAsync(30);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), bob.Messages.Select(m => m.Seq()));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => i.ToString()), bob.Messages.Select(m => m.GetProperty("data").GetRawText()));
    }

    [Fact]
    public async Task RedisMembership_SiloStoppedGracefully_MailboxSurvivesAndResumeRecovers()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var extra = await cluster.StartSiloAsync();
        await using var owned = cluster.Owned(extra);
        await using var alice = await TestClient.ConnectAsync(await cluster.StartEdgeWithoutRateLimitsAsync(), cluster.Tokens.Hs256($"alice-{run}"));

        // Keep creating mailboxes (2 messages each) until some live on the new silo: placement notices a
        // new silo only once membership and statistics have reached the others.
        var recipients = 0;
        var management = cluster.Backend.GetGrain<IManagementGrain>(0);
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            for (var i = 0; i < 10; i++, recipients++)
            {
                await alice.SendAsync($"offline{recipients}-{run}", $"\"{recipients}-a\"");
                await alice.SendAsync($"offline{recipients}-{run}", $"\"{recipients}-b\"");
            }

            await alice.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == recipients * 2);
            var stats = await management.GetSimpleGrainStatistics();
            return stats.Any(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal)
                && s.SiloAddress.Endpoint.Port == extra.SiloPort && s.ActivationCount > 0);
        }, TimeSpan.FromSeconds(30), "mailboxes on the silo about to stop");

        await cluster.StopSiloAsync(extra);

        for (var r = 0; r < recipients; r++)
        {
            await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"offline{r}-{run}"), lastSeq: 0);
            var welcome = await bob.WaitForFrameAsync("welcome");
            Assert.True(welcome.GetProperty("recovered").GetBoolean());
            Assert.Equal(2, welcome.Seq());
            await bob.WaitForMessagesAsync(2);
            Assert.Equal([$"{r}-a", $"{r}-b"], bob.Messages.Select(m => m.GetProperty("data").GetString()));
        }
    }
}
