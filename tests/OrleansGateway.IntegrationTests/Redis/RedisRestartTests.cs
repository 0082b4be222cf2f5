using System.Diagnostics;
using OrleansGateway.IntegrationTests.Fixtures;
using OrleansGateway.IntegrationTests.Restarts;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.Redis;

/// <summary>
/// Redis (membership, and with <c>Durability=Redis</c> the mailboxes too) down under traffic for longer than a lease TTL,
/// a silo's membership refresh and an edge's gateway list refresh, then back with its data; docs/reliability.md says
/// what each durability promises meanwhile.
/// </summary>
public sealed class RedisRestartTests(PersistentRedisCluster cluster, ITestOutputHelper output) : IClassFixture<PersistentRedisCluster>
{
    [Fact]
    public async Task Redis_DownLongerThanLeaseAndMembershipRefreshUnderTraffic_MemoryDurabilityKeepsServingNothingLostMembershipWorksAfter()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var traffic = await Traffic.StartAsync(cluster, 60, i => () => cluster.Edges[i % 2], run);
        traffic.Run(TimeSpan.FromMilliseconds(100));
        await RestartTestSupport.WaitForAckedAsync(traffic, 300);

        traffic.Mark("Redis stopped");
        cluster.Server.Stop();
        var down = Stopwatch.StartNew();
        try
        {
            // While Redis is away, messaging between running silos and edges goes on, through every refresh that
            // fails meanwhile: acknowledgements keep coming for the whole outage.
            do
            {
                var acked = traffic.AckedCount;
                await RestartTestSupport.WaitForAckedAsync(traffic, acked + 100);
            }
            while (down.Elapsed < RedisOutage.Length);
        }
        finally
        {
            cluster.Server.Restart();
            traffic.Mark("Redis restarted");
        }

        await RedisOutage.AssertMembershipWorksAsync(cluster, traffic);
        await traffic.StopSendingAsync();
        // No err expected: Redis holds membership only here (mailboxes in memory), and membership is not read per message.
        output.WriteLine(await traffic.AssertNothingLostAsync(TimeSpan.FromSeconds(30)));
        Assert.All(traffic.Clients, c => Assert.Equal(1, c.Connections)); // nobody was disconnected
    }
}

/// <summary>The same outage with durable mailboxes: sends are refused while nothing can be written, never acknowledged.</summary>
public sealed class RedisDurabilityOutageTests(DurablePersistentRedisCluster cluster, ITestOutputHelper output) : IClassFixture<DurablePersistentRedisCluster>
{
    [Fact]
    public async Task Redis_DownLongerThanLeaseAndMembershipRefreshUnderTraffic_RedisDurabilitySendsErrUnavailableThenFullServiceNothingLost()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var traffic = await Traffic.StartAsync(cluster, 60, i => () => cluster.Edges[i % 2], run);
        await using var sender = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"sender-{run}"));
        await using var recipient = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"recipient-{run}"));
        await recipient.WaitForFrameAsync("welcome");
        traffic.Run(TimeSpan.FromMilliseconds(100));
        await RestartTestSupport.WaitForAckedAsync(traffic, 300);

        traffic.Mark("Redis stopped");
        cluster.Server.Stop();
        var down = Stopwatch.StartNew();
        int ackedWhileDown;
        try
        {
            // Every send while Redis is away is answered err unavailable, for the whole outage.
            var probes = 0;
            do
            {
                var answer = await sender.RequestAsync(Send($"recipient-{run}", $"down-{probes++}"), GatewayCluster.EdgeCallTimeout * 3);
                Assert.True(answer.Type() == "err" && answer.GetProperty("code").GetString() == "unavailable", $"{down.Elapsed} into the outage: {answer}");

                // Pacing, not waiting for anything: refusals come back in about a millisecond, and an unpaced loop
                // outruns the edge's 200 frames/s limit, which rightly answers rate_limited instead.
                await Task.Delay(TimeSpan.FromMilliseconds(20));
            }
            while (down.Elapsed < RedisOutage.Length);

            // Nothing was acknowledged that was not written: after the first refusal (seconds after the stop, when the
            // last answers of writes made before it were long in) the traffic's acknowledgements stood still.
            ackedWhileDown = traffic.AckedCount;
            var again = await sender.RequestAsync(Send($"recipient-{run}", "down-last"), GatewayCluster.EdgeCallTimeout * 3);
            Assert.Equal("unavailable", again.GetProperty("code").GetString());
            Assert.Equal(ackedWhileDown, traffic.AckedCount);
        }
        finally
        {
            cluster.Server.Restart();
            traffic.Mark("Redis restarted");
        }

        // Full service once it is back: sends are acknowledged and delivered again, membership changes work.
        await GatewayClusterExtensions.EventuallyAsync(
            async () => (await sender.RequestAsync(Send($"recipient-{run}", "back"), GatewayCluster.EdgeCallTimeout * 3)).Type() == "ok",
            TimeSpan.FromSeconds(30), "a send acknowledged after Redis returned");
        await recipient.WaitForFrameAsync(f => f.Type() == "msg" && f.GetProperty("data").GetString() == "back");
        await RestartTestSupport.WaitForAckedAsync(traffic, ackedWhileDown + 300);
        await RedisOutage.AssertMembershipWorksAsync(cluster, traffic);
        await traffic.StopSendingAsync();
        output.WriteLine(await traffic.AssertNothingLostAsync(TimeSpan.FromSeconds(30), new Dictionary<string, string>
        {
            ["unavailable"] = "durable mailboxes refuse sends while Redis is down (docs/reliability.md); the traffic re-sends them with their keys",
        }));
        Assert.All(traffic.Clients, c => Assert.Equal(1, c.Connections)); // refused sends, but nobody was disconnected
    }

    private static string Send(string to, string data) => $$"""{"t":"send","id":"$id","to":"{{to}}","data":"{{data}}"}""";
}

internal static class RedisOutage
{
    /// <summary>Longer than a lease TTL, a silo's membership refresh and an edge's gateway list refresh, by a second.</summary>
    public static readonly TimeSpan Length = new[] { GatewayCluster.LeaseTtl, PersistentRedisCluster.MembershipRefresh, PersistentRedisCluster.GatewayListRefresh }
        .Max() + TimeSpan.FromSeconds(1);

    /// <summary>After Redis returned (with its data: append-only file), membership changes work again: a new silo joins, traffic flows on.</summary>
    public static async Task AssertMembershipWorksAsync(GatewayCluster cluster, Traffic traffic)
    {
        await cluster.StartSiloAsync();
        await RestartTestSupport.WaitForActiveSilosAsync(cluster, 3);
        var afterJoin = traffic.AckedCount;
        await RestartTestSupport.WaitForAckedAsync(traffic, afterJoin + 300);
    }
}
