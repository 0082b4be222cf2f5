using System.Net;
using System.Net.WebSockets;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Draining;

/// <summary>What a drain looks like from outside: health, upgrades, the admin endpoint, <c>bye</c> and the close code.</summary>
[Collection(GatewayCollection.Name)]
public sealed class EdgeDrainProtocolTests(GatewayCluster cluster)
{
    private const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    [Fact]
    public async Task Health_DuringDrain_ReadyIs503WhileLiveStays200()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var edge = await cluster.StartEdgeAsync(HeldDrainSettings());
        await using var first = await ConnectAsync(edge, $"a-{run}");
        await using var second = await ConnectAsync(edge, $"b-{run}");
        Assert.Equal(HttpStatusCode.OK, await GatewayClusterExtensions.GetStatusAsync(edge, "/health/ready"));
        Assert.Equal(HttpStatusCode.OK, await GatewayClusterExtensions.GetStatusAsync(edge, "/health/live"));

        await DrainAsync(edge);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GatewayClusterExtensions.GetStatusAsync(edge, "/health/ready"));
        Assert.Equal(HttpStatusCode.OK, await GatewayClusterExtensions.GetStatusAsync(edge, "/health/live"));
        AssertDrainStillInProgress(first, second);
    }

    [Fact]
    public async Task Upgrade_DuringDrain_Refused503WithRetryAfter()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?>(HeldDrainSettings()) { ["Gateway:Edge:RetryAfterSeconds"] = "7" });
        await using var first = await ConnectAsync(edge, $"a-{run}");
        await using var second = await ConnectAsync(edge, $"b-{run}");
        var query = $"access_token={cluster.Tokens.Hs256($"late-{run}")}";
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(edge, query)).Status);

        await DrainAsync(edge);

        var (status, retryAfter) = await TestClient.TryConnectAsync(edge, query);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("7", retryAfter);
        AssertDrainStillInProgress(first, second);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-admin-token-0123456789")]
    [InlineData("Bearer ")]
    [InlineData("Basic " + AdminToken)]
    public async Task AdminDrain_WrongOrMissingToken_401AndEdgeKeepsServing(string? authorization)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var edge = await cluster.StartEdgeAsync(DrainSettings());
        await using var client = await ConnectAsync(edge, $"a-{run}");

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new UriBuilder(edge) { Scheme = "http", Path = "/admin/drain" }.Uri);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        // No drain began: still ready, still admitting, the session untouched.
        Assert.Equal(HttpStatusCode.OK, await GatewayClusterExtensions.GetStatusAsync(edge, "/health/ready"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256($"late-{run}")}")).Status);
        Assert.Equal("pong", (await client.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
        Assert.DoesNotContain(client.Frames, f => f.Type() == "bye");

        // The right token on the same edge does drain it: the checks above can tell the difference.
        await DrainAsync(edge);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GatewayClusterExtensions.GetStatusAsync(edge, "/health/ready"));
        await client.WaitForFrameAsync("bye");
    }

    [Fact]
    public async Task Drain_TwelveSessions_ReconnectDelaysJitteredWithinBound()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        const int maxDelayMs = 2_000;
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?>(DrainSettings())
        {
            ["Gateway:Drain:BatchSize"] = "100",
            ["Gateway:Drain:MaxReconnectDelay"] = TimeSpan.FromMilliseconds(maxDelayMs).ToString(),
        });
        var clients = new List<TestClient>();
        for (var i = 0; i < 12; i++)
        {
            clients.Add(await ConnectAsync(edge, $"c{i}-{run}"));
        }

        await DrainAsync(edge);

        var delays = new List<int>();
        foreach (var client in clients)
        {
            var bye = await client.WaitForFrameAsync("bye");
            Assert.Equal("draining", bye.GetProperty("code").GetString());
            delays.Add(bye.GetProperty("reconnect_ms").GetInt32());
            await client.DisposeAsync();
        }

        Assert.All(delays, d => Assert.InRange(d, 0, maxDelayMs));
        Assert.True(delays.Distinct().Count() > 1, $"reconnect_ms not jittered: {string.Join(',', delays)}");
    }

    [Fact]
    public async Task Drain_OpenSessions_ByeDrainingIsLastFrameThenClose1012()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var edge = await cluster.StartEdgeAsync(DrainSettings());
        var clients = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            clients.Add(await ConnectAsync(edge, $"c{i}-{run}"));
        }

        await DrainAsync(edge);

        foreach (var client in clients)
        {
            await client.WaitClosedAsync();
            Assert.True(client.CloseStatus == ServiceRestart, $"closed with {client.CloseStatus} ({client.Error?.Message})");
            var last = client.Frames[^1];
            Assert.Equal("bye", last.Type());
            Assert.Equal("draining", last.GetProperty("code").GetString());
            await client.DisposeAsync();
        }
    }

    private async Task<TestClient> ConnectAsync(Uri edge, string clientId)
    {
        var client = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256(clientId));
        await client.WaitForFrameAsync("welcome");
        return client;
    }

    /// <summary>One of the two sessions of a held drain has not been told yet: what the test saw, it saw mid-drain.</summary>
    private static void AssertDrainStillInProgress(TestClient first, TestClient second) =>
        Assert.True(new[] { first, second }.Any(c => !c.Closed && !c.Frames.Any(f => f.Type() == "bye")),
            "both sessions were already told to leave: the drain may have ended before the checks");
}
