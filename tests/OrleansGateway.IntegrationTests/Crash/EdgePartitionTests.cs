using System.Net;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Crash;

[Collection(GatewayCollection.Name)]
public sealed class EdgePartitionTests(GatewayCluster cluster)
{
    [Fact]
    public async Task Edge_CutOffFromEverySilo_TellsClientsToReconnectInsteadOfBlackHolingThem()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        // An edge whose only way into the cluster is one extra silo; stopping that silo cuts it off.
        var gateway = await cluster.StartSiloAsync();
        var isolated = await cluster.StartEdgeAsync(new Dictionary<string, string?>
        {
            ["Gateway:Cluster:GatewayPorts:0"] = gateway.GatewayPort.ToString(),
            ["Gateway:Cluster:GatewayPorts:1"] = gateway.GatewayPort.ToString(),
            ["Gateway:Cluster:GatewayPorts:2"] = gateway.GatewayPort.ToString(),
        });
        await using var sender = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"s-{run}"));
        var victim = await TestClient.ConnectAsync(isolated, cluster.Tokens.Hs256($"v-{run}"));
        await victim.WaitForFrameAsync("welcome");
        await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"v-{{run}}","data":0}""");
        await victim.WaitForMessagesAsync(1);

        await cluster.StopSiloAsync(gateway);

        // Within about one lease TTL the edge gives up on its sessions: bye draining, close 1012.
        var bye = await victim.WaitForFrameAsync("bye", GatewayCluster.LeaseTtl * 5);
        Assert.Equal("draining", bye.GetProperty("code").GetString());
        await victim.WaitClosedAsync();
        Assert.Equal((System.Net.WebSockets.WebSocketCloseStatus)1012, victim.CloseStatus);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new UriBuilder(isolated) { Scheme = "http", Path = "/health/ready" }.Uri)).StatusCode);

        for (var i = 1; i <= 10; i++)
        {
            Assert.Equal("ok", (await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"v-{{run}}","data":{{i}}}""")).Type());
        }

        await using var resumed = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"v-{run}"), lastSeq: 1);
        Assert.True((await resumed.WaitForFrameAsync("welcome")).GetProperty("recovered").GetBoolean());
        await resumed.WaitForMessagesAsync(10);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i.ToString()), resumed.Messages.Select(m => m.GetProperty("data").GetRawText()));
        await victim.DisposeAsync();
    }
}
