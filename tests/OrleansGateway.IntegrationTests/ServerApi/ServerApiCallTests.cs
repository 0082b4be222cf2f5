using System.Net.WebSockets;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.ServerApi.ServerApiAssert;

namespace OrleansGateway.IntegrationTests.ServerApi;

/// <summary>Every call against real edges and silos over HTTP, observed where it lands: WebSocket clients, grains.</summary>
[Collection(ServerApiCollection.Name)]
public sealed class ServerApiCallTests(ServerApiGatewayCluster cluster)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Send_ToAConnectedClientOnAnotherEdge_ReachesItsWebSocketWithTheSeq()
    {
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"alice-{_run}"));
        await cluster.WaitOnlineAsync($"alice-{_run}");
        using var http = cluster.Api(edge: 0);

        var sent = await OkAsync(await http.PostAsync("/api/v1/send", Json($$$"""{"to":"alice-{{{_run}}}","from":"billing-svc","data":{"text":"paid"}}""")));

        Assert.Equal(1, sent.GetProperty("seq").GetInt64());
        Assert.False(sent.GetProperty("dup").GetBoolean());
        await alice.WaitForMessagesAsync(1);
        var message = alice.Messages.Single();
        Assert.Equal(1, message.Seq());
        Assert.Equal("billing-svc", message.GetProperty("from").GetString());
        Assert.Equal("paid", message.GetProperty("data").GetProperty("text").GetString());
    }

    [Fact]
    public async Task Publish_OnASubscribedChannel_ReachesTheSubscriber()
    {
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{_run}"));
        Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"sub","id":"$id","ch":"room:{{_run}}"}""")).Type());
        using var http = cluster.Api(edge: 1);

        var published = await OkAsync(await http.PostAsync("/api/v1/publish", Json($$"""{"ch":"room:{{_run}}","data":[1,2,3]}""")));

        var pub = await alice.WaitForFrameAsync("pub");
        Assert.Equal(published.GetProperty("off").GetInt64(), pub.GetProperty("off").GetInt64());
        Assert.Equal("[1,2,3]", pub.GetProperty("data").GetRawText());
        Assert.Equal(ServerApiGatewayCluster.WriteKeyName, pub.GetProperty("from").GetString());
    }

    [Fact]
    public async Task Disconnect_AConnectedClient_ClosesItsSocketWithTheByeCode()
    {
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{_run}"));
        await cluster.WaitOnlineAsync($"alice-{_run}");
        using var http = cluster.Api(edge: 1);

        var result = await OkAsync(await http.PostAsync($"/api/v1/clients/alice-{_run}/disconnect", Json("""{"code":"replaced"}""")));

        Assert.Equal(1, result.GetProperty("sessions").GetInt32());
        var bye = await alice.WaitForFrameAsync("bye");
        Assert.Equal("replaced", bye.GetProperty("code").GetString());
        await alice.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, alice.CloseStatus);
    }

    [Fact]
    public async Task ClientPresence_OnlineWithTwoSessions_ThenOffline()
    {
        var clientId = $"alice-{_run}";
        await using var one = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256(clientId));
        var two = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256(clientId));
        await cluster.WaitOnlineAsync(clientId, sessions: 2);
        using var http = cluster.Api(key: ServerApiGatewayCluster.ReadOnlyKey);

        var presence = await OkAsync(await http.GetAsync($"/api/v1/clients/{clientId}/presence"));
        Assert.True(presence.GetProperty("online").GetBoolean());
        Assert.Equal(2, presence.GetProperty("sessions").GetInt32());
        Assert.Equal(clientId, presence.GetProperty("client_id").GetString());

        await two.CloseAsync();
        await two.DisposeAsync();
        await GatewayClusterExtensions.EventuallyAsync(async () =>
            (await OkAsync(await http.GetAsync($"/api/v1/clients/{clientId}/presence"))).GetProperty("sessions").GetInt32() == 1,
            TimeSpan.FromSeconds(20), "one session left");
    }

    [Fact]
    public async Task Mailbox_AfterASeq_ReturnsBoundedPagesInOrder()
    {
        var clientId = $"offline-{_run}";
        using var http = cluster.Api();
        for (var i = 1; i <= 5; i++)
        {
            await OkAsync(await http.PostAsync("/api/v1/send", Json($$"""{"to":"{{clientId}}","data":{{i}}}""")));
        }

        var first = await OkAsync(await http.GetAsync($"/api/v1/clients/{clientId}/mailbox?after=1&limit=2"));
        Assert.Equal(5, first.GetProperty("seq").GetInt64());
        Assert.True(first.GetProperty("recovered").GetBoolean());
        Assert.Equal([2L, 3L], first.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()));
        Assert.Equal(3, first.GetProperty("next").GetInt64());

        var last = await OkAsync(await http.GetAsync($"/api/v1/clients/{clientId}/mailbox?after=3&limit=2"));
        Assert.Equal([4, 5], last.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("data").GetInt32()));
        Assert.False(last.TryGetProperty("next", out _));
    }

    [Fact]
    public async Task History_SinceAnOffset_ReturnsBoundedPagesInOrder()
    {
        var channel = $"news:{_run}";
        using var http = cluster.Api();
        for (var i = 1; i <= 4; i++)
        {
            await OkAsync(await http.PostAsync("/api/v1/publish", Json($$$"""{"ch":"{{{channel}}}","data":{"n":{{{i}}}}}""")));
        }

        var page = await OkAsync(await http.GetAsync($"/api/v1/channels/history?ch={Uri.EscapeDataString(channel)}&since=1&limit=2"));

        Assert.Equal(4, page.GetProperty("off").GetInt64());
        Assert.Equal([2L, 3L], page.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("off").GetInt64()));
        Assert.Equal(2, page.GetProperty("publications")[0].GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal(3, page.GetProperty("next").GetInt64());
    }

    [Fact]
    public async Task ClusterInfo_ListsEverySiloAndThisEdgeWithItsConnections()
    {
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{_run}"));
        using var http = cluster.Api(edge: 0, key: ServerApiGatewayCluster.ReadOnlyKey);

        var info = await OkAsync(await http.GetAsync("/api/v1/cluster"));

        var edgeId = cluster.EdgeId(cluster.Edges[0]);
        Assert.Equal(edgeId, info.GetProperty("edge").GetString());
        Assert.Equal(cluster.Silos.Count, info.GetProperty("silos").GetArrayLength());
        Assert.All(info.GetProperty("silos").EnumerateArray(), s => Assert.Equal("Active", s.GetProperty("status").GetString()));
        var self = info.GetProperty("edges").EnumerateArray().Single(e => e.GetProperty("id").GetString() == edgeId);
        Assert.True(self.GetProperty("connections").GetInt32() >= 1);
        Assert.True(info.GetProperty("connections").GetInt32() >= 1);
    }

    [Fact]
    public async Task ClusterInfo_AnotherEdgeWithRebalancingOff_ListedWithItsConnections()
    {
        // Neither edge rebalances (the fixture's default): each still reports its count every Gateway:Rebalance:Interval.
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{_run}"));
        await bob.WaitForFrameAsync("welcome");
        using var http = cluster.Api(edge: 0, key: ServerApiGatewayCluster.ReadOnlyKey);
        var other = cluster.EdgeId(cluster.Edges[1]);

        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            var info = await OkAsync(await http.GetAsync("/api/v1/cluster"));
            return info.GetProperty("edges").EnumerateArray()
                .Any(e => e.GetProperty("id").GetString() == other && e.GetProperty("connections").GetInt32() >= 1);
        }, TimeSpan.FromSeconds(30), "edge 0's cluster info to list edge 1 with bob's connection");
    }
}
