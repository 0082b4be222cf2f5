using System.Net;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.ServerApi.ServerApiAssert;

namespace OrleansGateway.IntegrationTests.ServerApi;

/// <summary>
/// Calls that reach the idempotency window (SendOnce/PublishOnce) and the channel's members (GetMembers/GetMemberStats)
/// through the server API.
/// </summary>
[Collection(ServerApiCollection.Name)]
public sealed class ServerApiIdempotencyAndMembersTests(ServerApiGatewayCluster cluster)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Send_SameIdempotencyKeyTwice_SameSeqMarkedDupAndDeliveredOnce()
    {
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{_run}"));
        await cluster.WaitOnlineAsync($"alice-{_run}");
        using var http = cluster.Api();

        async Task<System.Text.Json.JsonElement> SendAsync(string data)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send") { Content = Json($$"""{"to":"alice-{{_run}}","data":{{data}}}""") };
            request.Headers.Add("Idempotency-Key", "order-42");
            return await OkAsync(await http.SendAsync(request));
        }

        var first = await SendAsync("1");
        var repeat = await SendAsync("1");

        Assert.Equal(first.GetProperty("seq").GetInt64(), repeat.GetProperty("seq").GetInt64());
        Assert.False(first.GetProperty("dup").GetBoolean());
        Assert.True(repeat.GetProperty("dup").GetBoolean());
        using var reused = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send") { Content = Json($$"""{"to":"alice-{{_run}}","data":2}""") };
        reused.Headers.Add("Idempotency-Key", "order-42");
        await ProblemAsync(await http.SendAsync(reused), HttpStatusCode.Conflict, "idempotency-key-reused");
        await alice.WaitForMessagesAsync(1);
        Assert.Single(alice.Messages);
    }

    [Fact]
    public async Task Publish_SameIdempotencyKeyTwice_SameOffMarkedDup()
    {
        using var http = cluster.Api();
        async Task<System.Text.Json.JsonElement> PublishAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/publish") { Content = Json($$"""{"ch":"room:{{_run}}","data":1}""") };
            request.Headers.Add("Idempotency-Key", "news-1");
            return await OkAsync(await http.SendAsync(request));
        }

        var first = await PublishAsync();
        var repeat = await PublishAsync();
        Assert.Equal(first.GetProperty("off").GetInt64(), repeat.GetProperty("off").GetInt64());
        Assert.True(repeat.GetProperty("dup").GetBoolean());
    }

    [Fact]
    public async Task ChannelMembersAndStats_TwoClientsOnTwoEdges_ListedAndCounted()
    {
        var channel = $"room:{_run}";
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{_run}"));
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{_run}"));
        Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
        Assert.Equal("ok", (await bob.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
        using var http = cluster.Api(key: ServerApiGatewayCluster.ReadOnlyKey);

        await GatewayClusterExtensions.EventuallyAsync(async () =>
            (await OkAsync(await http.GetAsync($"/api/v1/channels/stats?ch={channel}"))).GetProperty("clients").GetInt32() == 2,
            TimeSpan.FromSeconds(20), "two members counted");
        var page = await OkAsync(await http.GetAsync($"/api/v1/channels/members?ch={channel}&limit=1"));
        Assert.Equal(2, page.GetProperty("total").GetInt32());
        Assert.Equal($"alice-{_run}", page.GetProperty("members").EnumerateArray().Single().GetProperty("client_id").GetString());
        var next = page.GetProperty("next").GetString();
        var rest = await OkAsync(await http.GetAsync($"/api/v1/channels/members?ch={channel}&limit=1&after={next}"));
        Assert.Equal($"bob-{_run}", rest.GetProperty("members").EnumerateArray().Single().GetProperty("client_id").GetString());
    }
}

/// <summary>The doc's curl examples for idempotency keys and channel members.</summary>
[Collection(ServerApiCollection.Name)]
public sealed class ServerApiDocIdempotencyAndMembersTests(ServerApiGatewayCluster cluster)
{
    [Fact]
    public async Task CurlExamples_IdempotencyAndChannelPresence_EachSucceedsAgainstARealEdge()
    {
        var lines = ServerApiDocTests.CurlLines().Where(ServerApiDocTests.UsesIdempotencyOrMembers).ToList();
        Assert.Equal(3, lines.Count);
        foreach (var line in lines)
        {
            await ServerApiDocTests.RunAsync(cluster, line);
        }
    }
}
