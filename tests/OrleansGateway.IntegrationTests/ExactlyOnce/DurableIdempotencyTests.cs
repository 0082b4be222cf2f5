using System.Text;
using OrleansGateway.Grains;
using OrleansGateway.Grains.MessageLogs;
using OrleansGateway.IntegrationTests.Durability;
using OrleansGateway.IntegrationTests.Fixtures;
using StackExchange.Redis;

namespace OrleansGateway.IntegrationTests.ExactlyOnce;

/// <summary>Issue #13: with Redis durability a key is stored in the same write as its message, so a crash does not forget it.</summary>
public sealed class SiloCrashIdempotencyTests(DurableRedisCluster cluster) : IClassFixture<DurableRedisCluster>
{
    [Fact]
    public async Task SendOnce_RepeatedAfterTheSiloHoldingTheMailboxWasKilled_RecognisedFromRedis()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());

        // Mailboxes given one keyed message each, until one of them lives on the silo about to be killed.
        var victim = "";
        var candidates = 0;
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            var ids = Enumerable.Range(candidates, 4).Select(i => $"crash-{run}-{i}").ToList();
            candidates += ids.Count;
            foreach (var id in ids)
            {
                Assert.Equal(new Accepted(1, false), await cluster.Backend.GetGrain<IClientGrain>(id).SendOnceAsync("billing", "\"once\""u8.ToArray(), "invoice-1"));
            }

            var onDoomed = await SiloCrashSupport.GrainsOnAsync(cluster, doomed);
            victim = ids.FirstOrDefault(id => onDoomed.Contains(SiloCrashSupport.ClientGrain(cluster, id))) ?? "";
            return victim.Length > 0;
        }, TimeSpan.FromSeconds(60), "a keyed mailbox on the silo process");

        doomed.Kill();

        var grain = cluster.Backend.GetGrain<IClientGrain>(victim);
        Accepted? repeat = null;
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            try
            {
                repeat = await grain.SendOnceAsync("billing", "\"once\""u8.ToArray(), "invoice-1");
                return true;
            }
            catch (Exception ex) when (ex is not IdempotencyKeyReusedException and not Xunit.Sdk.XunitException)
            {
                return false; // the cluster has not declared the silo dead yet
            }
        }, SiloCrashSupport.RecoveryTimeout, "the mailbox to be served again");

        Assert.Equal(new Accepted(1, true), repeat);
        Assert.Equal(["\"once\""], (await grain.ReadMailboxAsync(0)).Replay.Select(m => Encoding.UTF8.GetString(m.Data)));
        await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => grain.SendOnceAsync("billing", "\"other\""u8.ToArray(), "invoice-1"));
    }
}

/// <summary>Issue #13: a keyed append Redis ran whose reply was lost is found by the retry, not appended twice.</summary>
public sealed class LostRedisReplyIdempotencyTests(ProxiedDurableRedisCluster cluster) : IClassFixture<ProxiedDurableRedisCluster>
{
    [Fact]
    public async Task SendOnce_RedisRanTheAppendButItsReplyWasLost_TheRetryWithTheSameKeyIsADupAndStoredOnce()
    {
        var victim = $"lost-{Guid.NewGuid():N}"[..16];
        var grain = cluster.Backend.GetGrain<IClientGrain>(victim);
        Assert.Equal(new Accepted(1, false), await grain.SendOnceAsync("billing", "\"first\""u8.ToArray(), "k-1"));

        var key = Encoding.UTF8.GetBytes($":client:{victim}\r\n");
        var lost = cluster.MailboxProxy.LoseReplyToNextAsync(chunk => chunk.Span.IndexOf(key) >= 0 && chunk.Span.IndexOf("EVAL"u8) >= 0);
        await Assert.ThrowsAsync<MessageLogStoreException>(() => grain.SendOnceAsync("billing", "\"ambiguous\""u8.ToArray(), "k-2"));
        await lost.WaitAsync(TimeSpan.FromSeconds(10));

        // Retried, as a client would, until the silo reaches Redis again.
        Accepted? retry = null;
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            try
            {
                retry = await grain.SendOnceAsync("billing", "\"ambiguous\""u8.ToArray(), "k-2");
                return true;
            }
            catch (MessageLogStoreException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "the retry to be answered");

        Assert.Equal(new Accepted(2, true), retry);
        Assert.Equal(new Accepted(3, false), await grain.SendOnceAsync("billing", "\"third\""u8.ToArray(), "k-3"));
        Assert.Equal(["\"first\"", "\"ambiguous\"", "\"third\""], (await grain.ReadMailboxAsync(0)).Replay.Select(m => Encoding.UTF8.GetString(m.Data)));

        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Server.ConnectionString);
        var stored = (await redis.GetDatabase().ListRangeAsync($"ogw:ogw-tests:client:{victim}")).Select(v => RedisMessageLogStore.Decode((byte[])v!)).ToList();
        Assert.Equal([1L, 2L, 3L], stored.Select(m => m.Seq));
        var keys = await redis.GetDatabase().SortedSetRangeByRankWithScoresAsync($"ogw:ogw-tests:client:{victim}:keys");
        Assert.Equal([1.0, 2.0, 3.0], keys.Select(k => k.Score));
    }
}
