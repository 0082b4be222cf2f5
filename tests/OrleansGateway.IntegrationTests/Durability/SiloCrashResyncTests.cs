using System.Diagnostics;
using OrleansGateway.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.Durability;

/// <summary>
/// A silo killed with SIGKILL under the default <c>Memory</c> durability: its mailboxes and channel histories are
/// lost. Connected sessions that depended on them are told so (<c>bye draining</c>, 1012) instead of silently
/// receiving nothing, and learn <c>recovered:false</c> when they come back.
/// </summary>
public sealed class SiloCrashResyncTests(RedisGatewayCluster cluster, ITestOutputHelper output) : IClassFixture<RedisGatewayCluster>
{
    [Fact]
    public async Task ConnectedRecipient_MemoryMailboxLostWithKilledSilo_ToldToReconnectThenNotRecovered()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());
        var edge = await SiloCrashSupport.StartEdgeWithLeaseNotOnAsync(cluster, doomed);
        await using var sender = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"sender-{run}"));
        var recipients = await SiloCrashSupport.ConnectRecipientsUntilOneOnAsync(cluster, edge, sender, doomed, $"lost-{run}-", messages: 3);
        try
        {
            var (victimId, victim, _) = recipients.First(r => r.OnSilo);
            var clock = Stopwatch.StartNew();
            doomed.Kill();

            await victim.WaitClosedAsync(SiloCrashSupport.RecoveryTimeout);
            var toldAfter = clock.Elapsed;
            SiloCrashSupport.AssertToldToReconnect(victim);

            await using var back = await SiloCrashSupport.ReconnectAsync(cluster, edge, victimId, lastSeq: 3);
            var welcome = back.Frames[0];
            Assert.False(welcome.GetProperty("recovered").GetBoolean(), welcome.ToString());

            // Sessions whose mailboxes lived elsewhere were re-attached in place: still connected, still receiving.
            foreach (var (id, survivor, _) in recipients.Where(r => !r.OnSilo))
            {
                Assert.Equal("ok", (await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{id}}","data":"after"}""", SiloCrashSupport.RecoveryTimeout)).Type());
                await survivor.WaitForMessagesAsync(4);
                Assert.DoesNotContain(survivor.Frames, f => f.Type() == "bye");
            }

            output.WriteLine($"victim told bye draining {toldAfter.TotalSeconds:F1} s after SIGKILL; {recipients.Count(r => !r.OnSilo)} other recipient(s) kept");
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
    public async Task ChannelSubscriber_MemoryHistoryLostWithKilledSilo_ToldToReconnectThenNotRecovered()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());
        var edge = await SiloCrashSupport.StartEdgeWithLeaseNotOnAsync(cluster, doomed);
        await using var publisher = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"publisher-{run}"));
        await using var subscriber = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"subscriber-{run}"));
        await subscriber.WaitForFrameAsync("welcome");

        // Channels with 3 publications each, until one's grain lives on the silo process.
        var channels = new List<string>();
        string? doomedChannel = null;
        HashSet<Orleans.Runtime.GrainId> onSilo = [];
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            for (var i = 0; i < 4; i++)
            {
                var channel = $"room:{run}-{channels.Count}";
                channels.Add(channel);
                Assert.Equal("ok", (await subscriber.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
                for (var m = 0; m < 3; m++)
                {
                    Assert.Equal("ok", (await publisher.RequestAsync($$"""{"t":"pub","id":"$id","ch":"{{channel}}","data":{{m}}}""")).Type());
                }
            }

            await subscriber.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") == channels.Count * 3);
            onSilo = await SiloCrashSupport.GrainsOnAsync(cluster, doomed);
            doomedChannel = channels.FirstOrDefault(c => onSilo.Contains(SiloCrashSupport.ChannelGrain(cluster, c)));
            return doomedChannel is not null;
        }, TimeSpan.FromSeconds(60), "a channel on the silo process");

        var clock = Stopwatch.StartNew();
        doomed.Kill();

        await subscriber.WaitClosedAsync(SiloCrashSupport.RecoveryTimeout);
        var toldAfter = clock.Elapsed;
        SiloCrashSupport.AssertToldToReconnect(subscriber);

        await using var back = await SiloCrashSupport.ReconnectAsync(cluster, edge, $"subscriber-{run}", lastSeq: 0);
        var ok = await back.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{doomedChannel}}","since":3}""", SiloCrashSupport.RecoveryTimeout);
        Assert.Equal("ok", ok.Type());
        Assert.False(ok.GetProperty("recovered").GetBoolean(), ok.ToString());
        foreach (var survivor in channels.Where(c => !onSilo.Contains(SiloCrashSupport.ChannelGrain(cluster, c))).Take(1))
        {
            var kept = await back.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{survivor}}","since":3}""", SiloCrashSupport.RecoveryTimeout);
            Assert.True(kept.GetProperty("recovered").GetBoolean(), kept.ToString());
        }
        output.WriteLine($"subscriber told bye draining {toldAfter.TotalSeconds:F1} s after SIGKILL");
    }
}
