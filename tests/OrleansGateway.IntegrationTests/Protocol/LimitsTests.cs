using System.Net;
using System.Net.WebSockets;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Protocol;

[Collection(GatewayCollection.Name)]
public sealed class LimitsTests(GatewayCluster cluster)
{
    private static string Run() => Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Flood_OverFrameBudget_ErrRateLimitedThenByePolicyWhileNeighbourUnharmed()
    {
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?>
        {
            ["Gateway:Limits:FramesPerSecond"] = "0.2",
            ["Gateway:Limits:FrameBurst"] = "5",
            ["Gateway:Limits:RateLimitedBeforeClose"] = "30",
        });
        var run = Run();
        await using var neighbour = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"n-{run}"));
        await using var flooder = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"f-{run}"));
        await flooder.WaitForFrameAsync("welcome");
        for (var i = 0; i < 10; i++)
        {
            await flooder.SendTextAsync($$"""{"t":"ping","id":"p{{i}}"}""");
        }

        await flooder.WaitUntilAsync(f => f.Count(x => x.Type() is "pong" or "err") == 10);
        var limited = flooder.Frames.Where(f => f.Type() == "err").ToList();
        Assert.InRange(limited.Count, 4, 5); // 5 in the burst; one more is earned only every 5 s
        Assert.All(limited, e => Assert.Equal("rate_limited", e.GetProperty("code").GetString()));
        Assert.All(limited, e => Assert.StartsWith("p", e.GetProperty("id").GetString())); // the id is echoed

        for (var i = 0; i < 60 && !flooder.Closed; i++)
        {
            try
            {
                await flooder.SendTextAsync($$"""{"t":"ping","id":"q{{i}}"}""");
            }
            catch (WebSocketException)
            {
                break; // closed under us: what we expect
            }
        }

        var bye = await flooder.WaitForFrameAsync("bye");
        Assert.Equal("policy", bye.GetProperty("code").GetString());
        await flooder.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, flooder.CloseStatus);
        Assert.Equal("pong", (await neighbour.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());

        // Reconnecting at once is refused before the upgrade while the client cools down; others still connect.
        var (status, retryAfter) = await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256($"f-{run}")}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.NotNull(retryAfter);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256($"n2-{run}")}")).Status);
    }

    [Fact]
    public async Task Flood_RateLimitedSend_NeverAcknowledgedNeverDelivered()
    {
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?>
        {
            ["Gateway:Limits:FramesPerSecond"] = "2",
            ["Gateway:Limits:FrameBurst"] = "2",
        });
        var run = Run();
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bob-{run}"));
        await bob.WaitForFrameAsync("welcome");
        await using var alice = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"alice-{run}"));
        await alice.WaitForFrameAsync("welcome");
        for (var i = 0; i < 6; i++)
        {
            await alice.SendAsync($"bob-{run}", i.ToString());
        }

        await alice.WaitUntilAsync(f => f.Count(x => x.Type() is "ok" or "err") == 6);
        var oks = alice.Frames.Count(f => f.Type() == "ok");
        await bob.WaitForMessagesAsync(oks);
        Assert.Equal(oks, bob.Messages.Count);
        await bob.AssertMarkerIsNextMessageAsync($"bob-{run}", bob); // exactly the acknowledged ones arrived, no refused one after them
    }

    [Fact]
    public async Task Flood_ReconnectAfterBudgetSpent_NoFreshBurstWhileOtherClientsUnaffected()
    {
        // Generous per connection, tight per client: only the per-client budget can refuse here.
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?>
        {
            ["Gateway:Limits:ClientFramesPerSecond"] = "0.1",
            ["Gateway:Limits:ClientFrameBurst"] = "5",
        });
        var run = Run();
        var token = cluster.Tokens.Hs256($"f-{run}");
        await using (var first = await TestClient.ConnectAsync(edge, token))
        {
            for (var i = 0; i < 6; i++)
            {
                await first.SendTextAsync($$"""{"t":"ping","id":"p{{i}}"}""");
            }

            await first.WaitUntilAsync(f => f.Count(x => x.Type() is "pong" or "err") == 6);
            Assert.InRange(first.Frames.Count(f => f.Type() == "pong"), 5, 5);
        }

        // A new connection of the same client starts with what is left of the client's budget, not a fresh burst.
        await using var again = await TestClient.ConnectAsync(edge, token);
        var reply = await again.RequestAsync("""{"t":"ping","id":"$id"}""");
        Assert.Equal("rate_limited", reply.GetProperty("code").GetString());

        await using var other = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"o-{run}"));
        Assert.Equal("pong", (await other.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
    }

    [Fact]
    public async Task Sub_BeyondSubscriptionCap_ErrRateLimited()
    {
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Limits:MaxSubscriptionsPerSession"] = "2" });
        var run = Run();
        await using var client = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"s-{run}"));
        Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"a-{{run}}"}""")).Type());
        Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"b-{{run}}"}""")).Type());
        var err = await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"c-{{run}}"}""");
        Assert.Equal("rate_limited", err.GetProperty("code").GetString());
        Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"unsub","id":"$id","ch":"a-{{run}}"}""")).Type());
        Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"c-{{run}}"}""")).Type());
    }

    [Fact]
    public async Task Upgrade_BeyondSessionsPerClient_503()
    {
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Limits:MaxSessionsPerClient"] = "2" });
        var token = cluster.Tokens.Hs256($"tabs-{Run()}");
        await using var one = await TestClient.ConnectAsync(edge, token);
        await using var two = await TestClient.ConnectAsync(edge, token);
        await one.WaitForFrameAsync("welcome");
        await two.WaitForFrameAsync("welcome");
        var (status, retryAfter) = await TestClient.TryConnectAsync(edge, $"access_token={token}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.NotNull(retryAfter);
    }

    [Fact]
    public async Task Attach_BeyondSessionsPerClientAcrossEdges_NewSessionClosed1013OthersKeepReceiving()
    {
        // Two sessions on two different edges: each edge alone is under its cap, the cluster is at it.
        var limit = new Dictionary<string, string?> { ["Gateway:Limits:MaxSessionsPerClient"] = "2" };
        var edgeA = await cluster.StartEdgeAsync(limit);
        var edgeB = await cluster.StartEdgeAsync(limit);
        var run = Run();
        var token = cluster.Tokens.Hs256($"devices-{run}");
        await using var one = await TestClient.ConnectAsync(edgeA, token);
        await using var two = await TestClient.ConnectAsync(edgeB, token);
        await one.WaitForFrameAsync("welcome");
        await two.WaitForFrameAsync("welcome");

        await using var third = await TestClient.ConnectAsync(edgeA, token);
        await third.WaitClosedAsync();
        Assert.True((WebSocketCloseStatus)1013 == third.CloseStatus, $"closed with {third.CloseStatus} ({third.Error})");
        Assert.DoesNotContain(third.Frames, f => f.Type() == "welcome");

        // The refused session was never attached: both others still get every message, once.
        await using var sender = await TestClient.ConnectAsync(edgeB, cluster.Tokens.Hs256($"sender-{run}"));
        Assert.Equal("ok", (await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"devices-{{run}}","data":1}""")).Type());
        await one.WaitForMessagesAsync(1);
        await two.WaitForMessagesAsync(1);

        // A freed slot is usable again (the detach reaches the grain shortly after the close).
        await one.CloseAsync();
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            await using var next = await TestClient.ConnectAsync(edgeA, token);
            await next.WaitUntilAsync(frames => next.Closed || frames.Any(f => f.Type() == "welcome"), what: "welcome or close");
            return next.Frames.Any(f => f.Type() == "welcome");
        }, what: "the freed session slot to be reusable");
    }

    [Fact]
    public async Task Upgrade_BeyondConnectionsPerIp_503()
    {
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Limits:MaxConnectionsPerIp"] = "2" });
        var run = Run();
        await using var one = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"ip1-{run}"));
        await using var two = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"ip2-{run}"));
        await one.WaitForFrameAsync("welcome");
        await two.WaitForFrameAsync("welcome");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256($"ip3-{run}")}")).Status);
        await one.CloseAsync();
        await GatewayClusterExtensions.EventuallyAsync(async () =>
            (await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256($"ip3-{run}")}")).Status == HttpStatusCode.SwitchingProtocols,
            what: "a freed slot to be reusable");
    }

    [Fact]
    public async Task Upgrade_BeyondHandshakeRate_503()
    {
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Limits:HandshakesPerSecond"] = "0.5" }); // burst of 1
        var run = Run();
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256($"h1-{run}")}")).Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256($"h2-{run}")}")).Status);
    }
}
