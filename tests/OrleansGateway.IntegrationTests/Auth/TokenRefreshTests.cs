using System.Net.WebSockets;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Auth;

[Collection(GatewayCollection.Name)]
public sealed class TokenRefreshTests(GatewayCluster cluster)
{
    [Fact]
    public async Task Token_ExpiresWithoutRefresh_ByeTokenExpiredAndClose1008()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"short-{run}", lifetime: TimeSpan.FromSeconds(3)));
        var bye = await client.WaitForFrameAsync("bye", TimeSpan.FromSeconds(15));
        Assert.Equal("token_expired", bye.GetProperty("code").GetString());
        await client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
    }

    [Fact]
    public async Task Auth_FreshTokenForSameClient_SessionOutlivesTheOldToken()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var lifetime = TimeSpan.FromSeconds(3);
        await using var refreshed = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"r-{run}", lifetime: lifetime));
        await using var marker = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"m-{run}", lifetime: lifetime));

        var ok = await refreshed.RequestAsync($$"""{"t":"auth","id":"$id","token":"{{cluster.Tokens.Hs256($"r-{run}")}}"}""");
        Assert.Equal("ok", ok.Type());

        // The marker's token was minted with the same lifetime and not refreshed: once it is told to go,
        // the refreshed session's old token has expired too.
        await marker.WaitForFrameAsync("bye", TimeSpan.FromSeconds(15));
        Assert.Equal("pong", (await refreshed.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
        Assert.DoesNotContain(refreshed.Frames, f => f.Type() == "bye");
    }

    [Fact]
    public async Task Auth_TokenForAnotherClient_ErrForbiddenAndConnectionStays()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var client = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"me-{run}"));
        var err = await client.RequestAsync($$"""{"t":"auth","id":"$id","token":"{{cluster.Tokens.Hs256($"someone-else-{run}")}}"}""");
        Assert.Equal("forbidden", err.GetProperty("code").GetString());
        var garbage = await client.RequestAsync("""{"t":"auth","id":"$id","token":"not-a-token"}""");
        Assert.Equal("forbidden", garbage.GetProperty("code").GetString());
        var none = await client.RequestAsync($$"""{"t":"auth","id":"$id","token":"{{TestTokens.AlgNone($"me-{run}")}}"}""");
        Assert.Equal("forbidden", none.GetProperty("code").GetString());
        Assert.Equal("pong", (await client.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
    }
}
