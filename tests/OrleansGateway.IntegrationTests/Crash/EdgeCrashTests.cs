using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Crash;

[Collection(GatewayCollection.Name)]
public sealed class EdgeCrashTests(GatewayCluster cluster)
{
    [Fact]
    public async Task EdgeProcess_KilledWithSigkill_ClientsResumeElsewhereAndGrainDropsDeadEdgeWithinLease()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await EdgeProcess.StartAsync(cluster);
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        var bobs = new List<TestClient>();
        for (var i = 0; i < 5; i++)
        {
            var bob = await TestClient.ConnectAsync(doomed.Uri, cluster.Tokens.Hs256($"bob{i}-{run}"));
            await bob.WaitForFrameAsync("welcome");
            bobs.Add(bob);
        }

        for (var n = 0; n < 20; n++)
        {
            for (var i = 0; i < bobs.Count; i++)
            {
                await alice.SendAsync($"bob{i}-{run}", n.ToString());
            }
        }

        foreach (var bob in bobs)
        {
            await bob.WaitForMessagesAsync(20);
        }

        var lastSeen = bobs.Select(b => b.Messages[^1].Seq()).ToList();
        var killedAt = Stopwatch.StartNew();
        doomed.Kill();

        // Measured on its own: from the kill until bob0's grain has dropped the dead edge's session.
        var bob0 = cluster.Backend.GetGrain<IClientGrain>($"bob0-{run}");
        var dropped = Task.Run(async () =>
        {
            await GatewayClusterExtensions.EventuallyAsync(async () => (await bob0.GetPresenceAsync()).Sessions == 0,
                GatewayCluster.LeaseTtl * 4, "the dead edge's session to be dropped");
            return killedAt.Elapsed;
        });

        // Sends keep being acknowledged right away: a dead edge never blocks the grain.
        for (var n = 20; n < 50; n++)
        {
            for (var i = 0; i < bobs.Count; i++)
            {
                Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob{{i}}-{{run}}","data":{{n}}}""", TimeSpan.FromSeconds(5))).Type());
            }
        }

        // Documented bound (docs/operations.md): one lease TTL after the last renewal, plus the silo's cache.
        var droppedAfter = await dropped;
        Assert.True(droppedAfter < GatewayCluster.LeaseTtl * 2, $"dropped after {droppedAfter}");

        for (var i = 0; i < bobs.Count; i++)
        {
            await bobs[i].WaitClosedAsync();
            await using var resumed = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob{i}-{run}"), lastSeq: lastSeen[i]);
            var welcome = await resumed.WaitForFrameAsync("welcome");
            Assert.True(welcome.GetProperty("recovered").GetBoolean());
            await resumed.WaitForMessagesAsync(30);
            Assert.Equal(Enumerable.Range(20, 30).Select(n => n.ToString()), resumed.Messages.Select(m => m.GetProperty("data").GetRawText()));
            Assert.Equal(Enumerable.Range(21, 30).Select(s => (long)s), resumed.Messages.Select(m => m.Seq()));

            // The dead edge's session is dropped once its lease lapses; only the resumed session remains.
            var grain = cluster.Backend.GetGrain<IClientGrain>($"bob{i}-{run}");
            Assert.Equal(1, (await grain.GetPresenceAsync()).Sessions);
            await bobs[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task EdgeProcess_KilledWhileItsClientsIdle_SiloSweepFreesTheirGrainsWithoutAnyCall()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await EdgeProcess.StartAsync(cluster);
        var grains = new List<GrainId>();
        var clients = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = await TestClient.ConnectAsync(doomed.Uri, cluster.Tokens.Hs256($"idle{i}-{run}"));
            await client.WaitForFrameAsync("welcome");
            clients.Add(client);
            grains.Add(cluster.Backend.GetGrain<IClientGrain>($"idle{i}-{run}").GetGrainId());
        }

        bool Tracked(GrainId grain) => cluster.Silos.Any(s => s.Host.Services.GetRequiredService<EdgeDirectory>().Tracks(grain));
        Assert.All(grains, g => Assert.True(Tracked(g), $"{g} not tracked by any silo's edge directory"));

        doomed.Kill();

        // Nothing calls these grains: only the silo's sweep can notice the dead edge (lease TTL + sweep interval).
        await GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(!grains.Any(Tracked)), GatewayCluster.LeaseTtl * 5, "the sweep to drop the dead edge");
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }
}
