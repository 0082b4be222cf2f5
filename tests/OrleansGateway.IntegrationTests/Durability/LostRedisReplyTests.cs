using System.Text;
using OrleansGateway.Grains;
using OrleansGateway.Grains.MessageLogs;
using OrleansGateway.IntegrationTests.Fixtures;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.Durability;

/// <summary>Issue #13: an append Redis ran whose reply was lost must not leave two messages under one seq.</summary>
public sealed class LostRedisReplyTests(ProxiedDurableRedisCluster cluster, ITestOutputHelper output) : IClassFixture<ProxiedDurableRedisCluster>
{
    [Fact]
    public async Task Send_RedisRanTheAppendButItsReplyWasLost_NoSeqHeldTwiceAndAResumeAfterSigkillGetsEveryAcknowledgedOnce()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());
        var edge = await SiloCrashSupport.StartEdgeWithLeaseNotOnAsync(cluster, doomed);
        await using var sender = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"sender-{run}"));
        var recipients = await SiloCrashSupport.ConnectRecipientsUntilOneOnAsync(cluster, edge, sender, doomed, $"lost-{run}-", messages: 2);
        foreach (var (_, client, _) in recipients)
        {
            await client.DisposeAsync(); // offline: the resume below reads only what the reloaded mailbox holds
        }

        var victimId = recipients.First(r => r.OnSilo).Id;
        List<string> acknowledged = [$"{victimId}-0", $"{victimId}-1"];

        // The victim's next append runs in Redis, and the silo's connection is reset before the reply reaches it.
        var key = Encoding.UTF8.GetBytes($":client:{victimId}\r\n");
        var lost = cluster.MailboxProxy.LoseReplyToNextAsync(chunk => chunk.Span.IndexOf(key) >= 0 && chunk.Span.IndexOf("EVAL"u8) >= 0);
        var ambiguous = await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{victimId}}","data":"ambiguous"}""");
        await lost.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("unavailable", ambiguous.GetProperty("code").GetString());

        // More sends, each asked again until acknowledged (the silo reconnects to Redis meanwhile).
        var attempt = 0;
        for (var i = 0; i < 3; i++)
        {
            await GatewayClusterExtensions.EventuallyAsync(async () =>
            {
                var data = $"after-{i}-{attempt++}";
                var reply = await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{victimId}}","data":"{{data}}"}""");
                if (reply.Type() == "ok")
                {
                    acknowledged.Add(data);
                }

                return reply.Type() == "ok";
            }, TimeSpan.FromSeconds(30), $"send {i} after the lost reply to be acknowledged");
        }

        doomed.Kill();

        // The mailbox reloads from Redis on another silo; a resume from before the lost reply replays the log.
        await using var resumed = await SiloCrashSupport.ReconnectAsync(cluster, edge, victimId, lastSeq: 0);
        var last = resumed.Frames[0].Seq();
        await resumed.WaitUntilAsync(f => f.Count(x => x.Type() == "msg") >= last || resumed.Closed, SiloCrashSupport.RecoveryTimeout, "the replay");
        var delivered = resumed.Messages.Select(m => m.GetProperty("data").GetString()!).ToList();
        output.WriteLine($"acknowledged: {string.Join(", ", acknowledged)}; delivered: {string.Join(", ", delivered)}");

        Assert.All(acknowledged, a => Assert.Single(delivered, d => d == a));
        Assert.Equal(delivered.Count, delivered.Distinct().Count());
        Assert.Equal(Enumerable.Range(1, (int)last).Select(s => (long)s), resumed.Messages.Select(m => m.Seq()));

        // Redis itself: the write whose reply was lost is there (it ran), and no seq maps to two messages.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Server.ConnectionString);
        var stored = (await redis.GetDatabase().ListRangeAsync($"ogw:ogw-tests:client:{victimId}"))
            .Select(v => RedisMessageLogStore.Decode((byte[])v!)).ToList();
        output.WriteLine($"stored: {string.Join(", ", stored.Select(m => $"{m.Seq}={Encoding.UTF8.GetString(m.Data)}"))}");
        Assert.Contains(stored, m => Encoding.UTF8.GetString(m.Data) == "\"ambiguous\"");
        Assert.Equal(stored.Count, stored.Select(m => m.Seq).Distinct().Count());
    }
}

/// <summary>Redis errors cross the grain boundary as a serializable exception, answered <c>err unavailable</c>.</summary>
public sealed class UnreachableMailboxRedisTests(ProxiedDurableRedisCluster cluster) : IClassFixture<ProxiedDurableRedisCluster>
{
    [Fact]
    public async Task Send_MailboxRedisUnreachable_ErrUnavailableAndTheGrainsExceptionReachesTheCaller()
    {
        var clientId = $"cut-{Guid.NewGuid():N}"[..12];
        var grain = cluster.Backend.GetGrain<IClientGrain>(clientId);
        Assert.Equal(1, await grain.SendAsync("backend", "\"before\""u8.ToArray())); // active, its Redis reachable
        await using var sender = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"sender-{clientId}"));
        await sender.WaitForFrameAsync("welcome"); // the sender's own mailbox is loaded before Redis goes away

        cluster.MailboxProxy.Pause();
        try
        {
            // Before the fix the caller got a CodecNotFoundException: the Redis inner exception had no Orleans codec.
            var ex = await Assert.ThrowsAsync<MessageLogStoreException>(() => grain.SendAsync("backend", "\"during\""u8.ToArray()));
            Assert.Null(ex.InnerException);
            var reply = await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{clientId}}","data":"during"}""");
            Assert.Equal("unavailable", reply.GetProperty("code").GetString());
        }
        finally
        {
            cluster.MailboxProxy.Resume();
        }

        await GatewayClusterExtensions.EventuallyAsync(
            async () => (await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{clientId}}","data":"after"}""")).Type() == "ok",
            SiloCrashSupport.RecoveryTimeout, "sends to be acknowledged once Redis is back");
    }
}
