using System.Net;
using System.Net.Http.Headers;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.ServerApi.ServerApiAssert;

namespace OrleansGateway.IntegrationTests.ServerApi;

/// <summary>API keys on real edges over real HTTP: 401 without a known key, 403 for a read-only key on a write, and the API only on its own port.</summary>
[Collection(ServerApiCollection.Name)]
public sealed class ServerApiAuthTests(ServerApiGatewayCluster cluster)
{
    [Fact]
    public async Task Call_WithoutAuthorization_Is401ProblemWithChallenge()
    {
        using var http = cluster.Api(key: null);
        var response = await http.GetAsync("/api/v1/clients/alice/presence");
        await ProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("apikey", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Call_WithWrongKey_Is401Problem()
    {
        using var http = cluster.Api(key: "test-write-key-0123456780");
        await ProblemAsync(await http.PostAsync("/api/v1/send", Json("""{"to":"alice","data":1}""")), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Call_WithBearerSchemeAndRightKey_Is401Problem()
    {
        using var http = cluster.Api(key: null);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerApiGatewayCluster.WriteKey);
        await ProblemAsync(await http.GetAsync("/api/v1/cluster"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task ReadOnlyKey_OnEveryWrite_Is403ProblemAndNothingSent()
    {
        var clientId = $"ro-{Guid.NewGuid():N}"[..12];
        using var http = cluster.Api(key: ServerApiGatewayCluster.ReadOnlyKey);
        await ProblemAsync(await http.PostAsync("/api/v1/send", Json($$"""{"to":"{{clientId}}","data":1}""")), HttpStatusCode.Forbidden, "forbidden");
        await ProblemAsync(await http.PostAsync("/api/v1/send/batch", Json($$"""{"messages":[{"to":"{{clientId}}","data":1}]}""")), HttpStatusCode.Forbidden, "forbidden");
        await ProblemAsync(await http.PostAsync("/api/v1/publish", Json("""{"ch":"room:ro","data":1}""")), HttpStatusCode.Forbidden, "forbidden");
        await ProblemAsync(await http.PostAsync("/api/v1/publish/batch", Json("""{"publications":[{"ch":"room:ro","data":1}]}""")), HttpStatusCode.Forbidden, "forbidden");
        await ProblemAsync(await http.PostAsync($"/api/v1/clients/{clientId}/disconnect", null), HttpStatusCode.Forbidden, "forbidden");

        var presence = await OkAsync(await http.GetAsync($"/api/v1/clients/{clientId}/presence"));
        Assert.Equal(0, presence.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task ApiPath_OnThePublicPort_Is404EvenWithAKey()
    {
        var publicPort = new UriBuilder(cluster.Edges[0]) { Scheme = "http" }.Uri;
        using var http = new HttpClient { BaseAddress = publicPort };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("apikey", ServerApiGatewayCluster.WriteKey);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/cluster")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/openapi/server-api.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Api().GetAsync("/api/v1/cluster")).StatusCode);
    }
}
