using System.Net;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Auth;

[Collection(GatewayCollection.Name)]
public sealed class HandshakeTests(GatewayCluster cluster)
{
    public static TheoryData<string, string?> RefusedTokens()
    {
        var t = new TestTokens(); // keys the edge does not know, for "unknown key" cases
        return new TheoryData<string, string?>
        {
            { "missing", null },
            { "malformed", "not.a.jwt" },
            { "garbage", "eyJhbGciOiJIUzI1NiJ9.e30" },
            { "alg none", TestTokens.AlgNone("mallory") },
            { "signed with another secret", new TestTokens().Hs256("mallory", secret: "another-secret-another-secret-0123456789") },
            { "RS256 with an unknown key", t.Rs256("mallory") },
            { "ES256 with an unknown key", t.Es256("mallory") },
        };
    }

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task Upgrade_BadToken_401WithoutUpgrade(string why, string? token)
    {
        var (status, _) = await TestClient.TryConnectAsync(cluster.Edges[0], token is null ? null : $"access_token={token}");
        Assert.True(status == HttpStatusCode.Unauthorized, $"{why}: {status}");
    }

    [Fact]
    public async Task Upgrade_OversizedTokenInHeader_401()
    {
        // Longer than Gateway:Auth:MaxTokenLength (8 KiB): refused before any parsing. (In the query string the
        // request line limit answers first: 414.)
        var token = cluster.Tokens.Hs256(new string('m', 9000));
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestClient.TryConnectAsync(cluster.Edges[0], null, bearer: token)).Status);
    }

    [Fact]
    public async Task Upgrade_TokenWithoutKid_AcceptedWhenAConfiguredKeyVerifiesIt()
    {
        var token = cluster.Tokens.Hs256WithKid("erin", kid: null);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}")).Status);
    }

    [Fact]
    public async Task Upgrade_KidPointingNowhere_401()
    {
        // Signed with a trusted secret, but the kid names no configured key: refused, never "try every key".
        var token = cluster.Tokens.Hs256WithKid("mallory", "no-such-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}")).Status);
    }

    [Fact]
    public async Task Upgrade_ExpiredToken_401()
    {
        var token = cluster.Tokens.Hs256("erin", lifetime: TimeSpan.FromMinutes(-5), notBefore: DateTime.UtcNow.AddMinutes(-10));
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}")).Status);
    }

    [Fact]
    public async Task Upgrade_NotYetValidToken_401()
    {
        var token = cluster.Tokens.Hs256("erin", lifetime: TimeSpan.FromHours(2), notBefore: DateTime.UtcNow.AddHours(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}")).Status);
    }

    [Fact]
    public async Task Upgrade_WrongIssuer_401() =>
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={cluster.Tokens.Hs256("erin", issuer: "someone-else")}")).Status);

    [Fact]
    public async Task Upgrade_WrongAudience_401() =>
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={cluster.Tokens.Hs256("erin", audience: "other-api")}")).Status);

    [Fact]
    public async Task Upgrade_HmacSignedWithRsaPublicKey_401()
    {
        // Algorithm confusion: the RSA public key is public, so an HS256 token keyed with it must never pass.
        var token = cluster.Tokens.Hs256WithRsaPublicKey("mallory");
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}")).Status);
    }

    [Theory]
    [InlineData("no exp", """{"sub":"erin","iss":"ogw-tests","aud":"ogw"}""")]
    [InlineData("no sub", """{"iss":"ogw-tests","aud":"ogw","exp":EXP}""")]
    [InlineData("empty sub", """{"sub":"","iss":"ogw-tests","aud":"ogw","exp":EXP}""")]
    public async Task Upgrade_SignedTokenMissingRequiredClaim_401(string why, string payload)
    {
        var token = TestTokens.Hs256Payload(payload.Replace("EXP", DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(), StringComparison.Ordinal));
        Assert.True(HttpStatusCode.Unauthorized == (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}")).Status, why);

        // The same claims with the missing one added are accepted: the refusal is about that claim, not the signing.
        var complete = TestTokens.Hs256Payload($$"""{"sub":"erin","iss":"ogw-tests","aud":"ogw","exp":{{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}""");
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={complete}")).Status);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    public async Task Upgrade_InvalidSubject_401(string sub) =>
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={cluster.Tokens.Hs256(sub)}")).Status);

    [Fact]
    public async Task Upgrade_ValidTokens_EveryConfiguredAlgorithmAccepted()
    {
        foreach (var token in new[] { cluster.Tokens.Hs256("erin"), cluster.Tokens.Rs256("erin"), cluster.Tokens.Es256("erin") })
        {
            await using var client = await TestClient.ConnectAsync(cluster.Edges[0], token);
            var welcome = await client.WaitForFrameAsync("welcome");
            Assert.Equal("erin", welcome.GetProperty("client").GetString());
            Assert.Equal("ogw.v1.json", client.SubProtocol);
            Assert.Equal("welcome", client.Frames[0].Type());
        }
    }

    [Fact]
    public async Task Upgrade_BearerHeader_Accepted()
    {
        var (status, _) = await TestClient.TryConnectAsync(cluster.Edges[1], null, bearer: cluster.Tokens.Hs256("erin"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
    }

    [Fact]
    public async Task Upgrade_ForeignOrigin_403()
    {
        var token = cluster.Tokens.Hs256("erin");
        Assert.Equal(HttpStatusCode.Forbidden, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}", origin: "https://evil.example")).Status);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}", origin: "https://app.example")).Status);
    }

    [Fact]
    public async Task Upgrade_InvalidLastSeq_400()
    {
        var token = cluster.Tokens.Hs256("erin");
        Assert.Equal(HttpStatusCode.BadRequest, (await TestClient.TryConnectAsync(cluster.Edges[0], $"access_token={token}&last_seq=-1")).Status);
    }

    [Fact]
    public async Task Upgrade_EdgeAtConnectionCap_503WithRetryAfter()
    {
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Edge:MaxConnections"] = "2" });
        await using var one = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256("cap-1"));
        await using var two = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256("cap-2"));
        await one.WaitForFrameAsync("welcome");
        await two.WaitForFrameAsync("welcome");

        var (status, retryAfter) = await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256("cap-3")}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("5", retryAfter);

        await one.CloseAsync();
        await GatewayClusterExtensions.EventuallyAsync(async () =>
            (await TestClient.TryConnectAsync(edge, $"access_token={cluster.Tokens.Hs256("cap-3")}")).Status == HttpStatusCode.SwitchingProtocols);
    }
}
