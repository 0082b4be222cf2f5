using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Restarts;

/// <summary>
/// The combined topology (docs/operations.md): an edge process that co-hosts a silo of the cluster
/// (<c>Gateway:EmbeddedSilo</c>) next to the fixture's silos and edges.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class CombinedTopologyTests(GatewayCluster cluster)
{
    [Fact]
    public async Task CombinedEdge_Sigterm_GrainsMigrateAndTheClientResumesRecoveredOnAnotherEdge()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var (edge, siloPort) = await StartCombinedEdgeAsync();
        using var _ = edge;
        await WaitForActiveSilosAsync(cluster, cluster.Silos.Count + 1);
        await WaitForPlacementOnAsync(cluster, siloPort); // a hint to a silo placement does not know yet is ignored
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));

        // Bob's grain on the edge's own silo (a placement hint, so the test does not depend on where placement would put it).
        var combined = (await cluster.Backend.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Keys.Single(s => s.Endpoint.Port == siloPort);
        RequestContext.Set(IPlacementDirector.PlacementHintKey, combined);
        try
        {
            await cluster.Backend.GetGrain<OrleansGateway.Grains.IClientGrain>($"bob-{run}").GetPresenceAsync();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        var bob = await TestClient.ConnectAsync(edge.Uri, cluster.Tokens.Hs256($"bob-{run}"));
        await bob.WaitForFrameAsync("welcome");
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":{{i}}}""")).Type());
        }

        await bob.WaitForMessagesAsync(3);
        Assert.Equal(siloPort, await GrainPortAsync($"bob-{run}"));

        // SIGTERM: the edge drains bob away, then its silo stops and migrates bob's grain (mailbox included).
        await StopAsync(edge);
        await bob.WaitClosedAsync();
        await bob.DisposeAsync();
        for (var i = 4; i <= 5; i++)
        {
            Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":{{i}}}""")).Type());
        }

        await using var again = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"), lastSeq: 3);
        var welcome = await again.WaitForFrameAsync("welcome");
        Assert.True(welcome.GetProperty("recovered").GetBoolean());
        Assert.Equal(5, welcome.Seq());
        await again.WaitForMessagesAsync(2);
        Assert.Equal([4L, 5L], again.Messages.Select(m => m.Seq()));
        Assert.NotEqual(siloPort, await GrainPortAsync($"bob-{run}"));

    }

    private async Task<(EdgeProcess Edge, int SiloPort)> StartCombinedEdgeAsync()
    {
        var siloPort = GatewayCluster.FreeTcpPort();
        var settings = new Dictionary<string, string?>(cluster.SiloSettings())
        {
            ["Gateway:EmbeddedSilo"] = "true",
            ["Gateway:Cluster:SiloPort"] = siloPort.ToString(),
            ["Gateway:Cluster:GatewayPort"] = GatewayCluster.FreeTcpPort().ToString(),
        };
        foreach (var (key, value) in DrainSettings())
        {
            settings[key] = value;
        }

        var edge = await EdgeProcess.StartAsync(cluster, settings);
        await GatewayCluster.WaitReadyAsync(edge.Uri, TimeSpan.FromSeconds(60));
        return (edge, siloPort);
    }

    private static async Task StopAsync(EdgeProcess edge)
    {
        if (edge.HasExited)
        {
            return;
        }

        edge.Terminate();
        Assert.True(await edge.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the combined edge did not exit within 60 s of SIGTERM");
    }

    private async Task<int> GrainPortAsync(string clientId) =>
        (await cluster.Backend.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
            .Single(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) && s.GrainId.Key.ToString() == clientId)
            .SiloAddress.Endpoint.Port;
}
