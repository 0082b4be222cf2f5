using System.Diagnostics;
using System.Text;
using Orleans.Core.Internal;
using Orleans.Runtime;
using Orleans.Streams;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.Durability;

public sealed class SiloCrashTests(DurableRedisCluster cluster, ITestOutputHelper output) : IClassFixture<DurableRedisCluster>
{
    [Fact]
    public async Task SiloProcess_KilledWithSigkill_RedisDurabilityLosesNoAcknowledgedMessage()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());
        var management = cluster.Backend.GetGrain<IManagementGrain>(0);
        await using var sender = await TestClient.ConnectAsync(await cluster.StartEdgeWithoutRateLimitsAsync(), cluster.Tokens.Hs256($"sender-{run}"));

        // Mailboxes of offline recipients, until some of them live on the silo we will kill.
        var recipients = 0;
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            for (var i = 0; i < 10; i++, recipients++)
            {
                for (var m = 0; m < 3; m++)
                {
                    await sender.SendAsync($"r{recipients}-{run}", $"\"{recipients}-{m}\"");
                }
            }

            await sender.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == recipients * 3);
            var stats = await management.GetSimpleGrainStatistics();
            return stats.Any(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) && s.SiloAddress.Endpoint.Port == doomed.SiloPort && s.ActivationCount > 0);
        }, TimeSpan.FromSeconds(60), "mailboxes on the silo process");

        var onDoomed = (await management.GetSimpleGrainStatistics())
            .Where(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) && s.SiloAddress.Endpoint.Port == doomed.SiloPort).Sum(s => s.ActivationCount);
        var clock = Stopwatch.StartNew();
        doomed.Kill();

        // Every recipient resumes from 0 and gets its 3 acknowledged messages, however long the cluster takes to
        // declare the dead silo dead and re-activate its grains from Redis.
        for (var r = 0; r < recipients; r++)
        {
            TestClient? client = null;
            await GatewayClusterExtensions.EventuallyAsync(async () =>
            {
                TestClient attempt;
                try
                {
                    attempt = await TestClient.ConnectAsync(cluster.Edges[r % 2], cluster.Tokens.Hs256($"r{r}-{run}"), lastSeq: 0);
                }
                catch (System.Net.WebSockets.WebSocketException)
                {
                    return false; // refused (e.g. 503) while the cluster recovers: a client would retry too
                }

                try
                {
                    await attempt.WaitForFrameAsync("welcome", TimeSpan.FromSeconds(10));
                    client = attempt;
                    return true;
                }
                catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
                {
                    await attempt.DisposeAsync(); // closed with 1013 while its grain was unreachable: try again
                    return false;
                }
            }, TimeSpan.FromSeconds(90), $"recipient {r} to be served");

            await using var served = client!;
            var welcome = served.Frames[0];
            Assert.True(welcome.GetProperty("recovered").GetBoolean(), $"recipient {r}: {welcome}");
            Assert.Equal(3, welcome.Seq());
            await served.WaitForMessagesAsync(3);
            Assert.Equal([$"{r}-0", $"{r}-1", $"{r}-2"], served.Messages.Select(m => m.GetProperty("data").GetString()));
        }

        output.WriteLine($"{onDoomed} mailboxes on the killed silo; all {recipients} recipients served {clock.Elapsed.TotalSeconds:F1} s after SIGKILL");
    }

    [Fact]
    public async Task ConnectedRecipient_MailboxOnKilledSilo_KeepsReceivingWithoutReconnecting()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());
        // Started after the silo process joined, so this edge knows (and connects to) its gateway.
        var edge = await SiloCrashSupport.StartEdgeWithLeaseNotOnAsync(cluster, doomed);
        await using var sender = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"sender-{run}"));
        var recipients = await SiloCrashSupport.ConnectRecipientsUntilOneOnAsync(cluster, edge, sender, doomed, $"live-{run}-", messages: 3);
        try
        {
            var (victimId, victim, _) = recipients.First(r => r.OnSilo);
            var clock = Stopwatch.StartNew();
            doomed.Kill();

            // New messages for the victim: refused (err unavailable, not acknowledged) until the cluster declares the
            // silo dead and the mailbox re-activates from Redis; acknowledged after that.
            var acknowledged = new List<string>();
            var attempt = 0;
            await GatewayClusterExtensions.EventuallyAsync(async () =>
            {
                var data = $"after-{attempt++}";
                var reply = await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{victimId}}","data":"{{data}}"}""", SiloCrashSupport.RecoveryTimeout);
                if (reply.Type() == "ok")
                {
                    acknowledged.Add(data);
                }

                return acknowledged.Count >= 5;
            }, SiloCrashSupport.RecoveryTimeout, "5 messages to the victim to be acknowledged");
            var acknowledgedAfter = clock.Elapsed;

            await victim.WaitUntilAsync(
                f => acknowledged.All(a => f.Any(x => x.Type() == "msg" && x.GetProperty("data").GetString() == a)),
                SiloCrashSupport.RecoveryTimeout, "every acknowledged message on the connected session");
            var deliveredAfter = clock.Elapsed;

            Assert.False(victim.Closed);
            Assert.Single(victim.Frames, f => f.Type() == "welcome");
            var seqs = victim.Messages.Select(m => m.Seq()).ToList();
            Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
            output.WriteLine($"first post-kill send acknowledged {acknowledgedAfter.TotalSeconds:F1} s after SIGKILL; all delivered to the connected session {deliveredAfter.TotalSeconds:F1} s after");
        }
        finally
        {
            foreach (var (_, client, _) in recipients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task InboundRedelivery_AfterGrainLostItsMemory_DroppedAsDuplicate()
    {
        var clientId = $"dedup-{Guid.NewGuid():N}"[..14];
        var grain = cluster.Backend.GetGrain<IClientGrain>(clientId);
        var stream = cluster.Backend.GetStreamProvider(UpstreamStreams.ProviderName)
            .GetStream<InboundMessage>(StreamId.Create(InboundStreams.ClientNamespace, clientId));
        var record = new InboundMessage("orders", "\"first\""u8.ToArray(), Source: "orders/3", Position: 41);
        await stream.OnNextAsync(record);
        await GatewayClusterExtensions.EventuallyAsync(async () => (await grain.GetPresenceAsync()).Seq == 1, what: "the record to be accepted");

        // Deactivate without migration, as a crash would: the memory copy (and its Kafka positions) is gone.
        var management = cluster.Backend.GetGrain<IManagementGrain>(0);
        var type = grain.GetGrainId().Type;
        Assert.Contains(grain.GetGrainId(), await management.GetActiveGrains(type));
        await grain.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await GatewayClusterExtensions.EventuallyAsync(
            async () => !(await management.GetActiveGrains(type)).Contains(grain.GetGrainId()), what: "the activation to end");

        // Kafka redelivers the record whose offset was not committed yet, then the next one.
        await stream.OnNextAsync(record);
        await stream.OnNextAsync(new InboundMessage("orders", "\"second\""u8.ToArray(), Source: "orders/3", Position: 42));
        await GatewayClusterExtensions.EventuallyAsync(async () => (await grain.GetPresenceAsync()).Seq >= 2, what: "the next record to be accepted");

        var log = await cluster.Backend.GetGrain<IClientSessionGrain>(clientId).ReadSinceAsync(0);
        Assert.Equal(["\"first\"", "\"second\""], log.Replay.Select(m => Encoding.UTF8.GetString(m.Data)));
    }
}
