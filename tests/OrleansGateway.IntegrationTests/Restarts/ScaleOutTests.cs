using Orleans.Runtime;
using OrleansGateway.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Restarts;

[Collection(GatewayCollection.Name)]
public sealed class ScaleOutTests(GatewayCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task ScaleOut_SiloJoins_ExistingMailboxesStayNewOnesUseIt()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var management = cluster.Backend.GetGrain<IManagementGrain>(0);
        await using var sender = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"s-{run}"));

        async Task<Dictionary<string, SiloAddress>> CreateMailboxesAsync(string prefix, int count)
        {
            var before = sender.Frames.Count(f => f.Type() == "ok");
            for (var i = 0; i < count; i++)
            {
                await sender.SendAsync($"{prefix}{i}-{run}", "1");
            }

            await sender.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == before + count);
            return await WhereAsync(prefix);
        }

        async Task<Dictionary<string, SiloAddress>> WhereAsync(string prefix) =>
            (await management.GetDetailedGrainStatistics())
                .Where(s => s.GrainId.Key.ToString()!.StartsWith(prefix, StringComparison.Ordinal) && s.GrainId.Key.ToString()!.EndsWith(run, StringComparison.Ordinal))
                .ToDictionary(s => s.GrainId.Key.ToString()!, s => s.SiloAddress);

        var existing = await CreateMailboxesAsync("old", 100);
        Assert.Equal(100, existing.Count);

        var added = await cluster.StartSiloAsync();
        await using var owned = cluster.Owned(added);
        await WaitForActiveSilosAsync(cluster, cluster.Silos.Count);
        await WaitForPlacementOnAsync(cluster, added);

        var fresh = await CreateMailboxesAsync("new", 100);
        var existingNow = await WhereAsync("old");
        var movedToNew = existingNow.Count(e => e.Value.Endpoint.Port == added.SiloPort);
        var freshOnNew = fresh.Count(e => e.Value.Endpoint.Port == added.SiloPort);
        output.WriteLine($"after a silo joined: {movedToNew}/100 existing mailboxes moved to it, {freshOnNew}/100 new mailboxes placed on it ({cluster.Silos.Count} silos)");

        Assert.Equal(existing.OrderBy(e => e.Key), existingNow.OrderBy(e => e.Key)); // nothing moved by itself
        Assert.True(freshOnNew > 0, "the new silo takes new activations");
    }
}
