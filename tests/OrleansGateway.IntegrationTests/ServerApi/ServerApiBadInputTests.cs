using System.Net;
using System.Text;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.ServerApi.ServerApiAssert;

namespace OrleansGateway.IntegrationTests.ServerApi;

/// <summary>Each kind of bad input is refused with its problem type, and a batch with bad entries still sends the good ones.</summary>
[Collection(ServerApiCollection.Name)]
public sealed class ServerApiBadInputTests(ServerApiGatewayCluster cluster)
{
    [Theory]
    [InlineData("/api/v1/send", """{"to":"alice","data":""")]
    [InlineData("/api/v1/send", "not json")]
    [InlineData("/api/v1/send", "null")]
    [InlineData("/api/v1/send", """{"to":"alice","dat":1}""")]
    [InlineData("/api/v1/send", """{"to":"alice","to":"bob","data":1}""")]
    [InlineData("/api/v1/publish", """{"ch":"room:1","data":1,"extra":true}""")]
    [InlineData("/api/v1/send/batch", """{"messages":{"to":"alice"}}""")]
    public async Task Body_MalformedOrUnknownField_Is400MalformedJson(string path, string body)
    {
        using var http = cluster.Api();
        await ProblemAsync(await http.PostAsync(path, Json(body)), HttpStatusCode.BadRequest, "malformed-json");
    }

    [Theory]
    [InlineData("/api/v1/send", """{"to":"al ice","data":1}""")]
    [InlineData("/api/v1/send", """{"data":1}""")]
    [InlineData("/api/v1/send", """{"to":"alice","data":1,"from":"bad from"}""")]
    [InlineData("/api/v1/publish", """{"ch":"room*","data":1}""")]
    [InlineData("/api/v1/publish", """{"ch":"","data":1}""")]
    [InlineData("/api/v1/send/batch", """{"messages":[]}""")]
    [InlineData("/api/v1/publish/batch", """{"publications":[]}""")]
    [InlineData("/api/v1/clients/bob/disconnect", """{"code":"whatever"}""")]
    public async Task Body_InvalidIdChannelOrField_Is400InvalidRequest(string path, string body)
    {
        using var http = cluster.Api();
        await ProblemAsync(await http.PostAsync(path, Json(body)), HttpStatusCode.BadRequest, "invalid-request");
    }

    [Theory]
    [InlineData("/api/v1/clients/al%20ice/presence")]
    [InlineData("/api/v1/clients/alice/mailbox?after=-1")]
    [InlineData("/api/v1/clients/alice/mailbox?limit=0")]
    [InlineData("/api/v1/channels/members?ch=room*")]
    [InlineData("/api/v1/channels/stats")]
    [InlineData("/api/v1/channels/history?ch=room:1&since=abc")]
    public async Task Query_InvalidIdChannelOrNumber_Is400InvalidRequest(string path)
    {
        using var http = cluster.Api();
        await ProblemAsync(await http.GetAsync(path), HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task IdempotencyKey_TooLong_Is400InvalidRequest()
    {
        using var http = cluster.Api();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send") { Content = Json("""{"to":"alice","data":1}""") };
        request.Headers.Add("Idempotency-Key", new string('k', 65));
        await ProblemAsync(await http.SendAsync(request), HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task Body_OverTheLimit_Is413()
    {
        using var http = cluster.Api();
        var body = $$"""{"to":"alice","data":"{{new string('x', ServerApiGatewayCluster.MaxBodyBytes)}}"}""";
        await ProblemAsync(await http.PostAsync("/api/v1/send", Json(body)), HttpStatusCode.RequestEntityTooLarge, "body-too-large");
    }

    [Fact]
    public async Task Body_OverTheLimitChunked_Is413()
    {
        using var http = cluster.Api();
        var body = $$"""{"to":"alice","data":"{{new string('x', ServerApiGatewayCluster.MaxBodyBytes)}}"}""";
        // No Content-Length: the limit must hold while reading, not only on the header.
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        await ProblemAsync(await http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "body-too-large");
    }

    [Fact]
    public async Task SendBatch_SomeBadEntries_GoodOnesDeliveredBadOnesReportedInOrder()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"));
        await cluster.WaitOnlineAsync($"alice-{run}");
        await cluster.WaitOnlineAsync($"bob-{run}");
        using var http = cluster.Api();

        var body = $$$"""
            {"messages":[
              {"to":"alice-{{{run}}}","data":{"n":1}},
              {"to":"bad id","data":{"n":2}},
              {"to":"bob-{{{run}}}","data":{"n":3}},
              {"to":"alice-{{{run}}}","data":{"n":4},"key":"{{{new string('k', 65)}}}"},
              {"to":"alice-{{{run}}}","data":{"n":5}}
            ]}
            """;
        var response = await OkAsync(await http.PostAsync("/api/v1/send/batch", Json(body)));

        Assert.Equal(3, response.GetProperty("succeeded").GetInt32());
        Assert.Equal(2, response.GetProperty("failed").GetInt32());
        var results = response.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3, 4], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal(1, results[0].GetProperty("seq").GetInt64());
        Assert.Equal(ProblemPrefix + "invalid-request", results[1].GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(1, results[2].GetProperty("seq").GetInt64());
        Assert.Equal(ProblemPrefix + "invalid-request", results[3].GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(2, results[4].GetProperty("seq").GetInt64());

        await alice.WaitForMessagesAsync(2);
        Assert.Equal([1, 5], alice.Messages.Select(m => m.GetProperty("data").GetProperty("n").GetInt32()));
        await bob.WaitForMessagesAsync(1);
        Assert.Equal(ServerApiGatewayCluster.WriteKeyName, bob.Messages.Single().GetProperty("from").GetString());
    }

    [Fact]
    public async Task PublishBatch_OneBadChannel_OthersPublishedAndBadOneReported()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"sub","id":"$id","ch":"room:{{run}}"}""")).Type());
        using var http = cluster.Api();

        var body = $$"""{"from":"news","publications":[{"ch":"room:{{run}}","data":"a"},{"ch":"no spaces","data":"b"},{"ch":"room:{{run}}","data":"c"}]}""";
        var response = await OkAsync(await http.PostAsync("/api/v1/publish/batch", Json(body)));

        var results = response.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(1, results[0].GetProperty("off").GetInt64());
        Assert.Equal(ProblemPrefix + "invalid-request", results[1].GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(2, results[2].GetProperty("off").GetInt64());
        await alice.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") == 2);
        var pubs = alice.Frames.Where(f => f.Type() == "pub").ToList();
        Assert.Equal(["a", "c"], pubs.Select(p => p.GetProperty("data").GetString()));
        Assert.All(pubs, p => Assert.Equal("news", p.GetProperty("from").GetString()));
    }
}
