using System.Net;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Auth;

[Collection(GatewayCollection.Name)]
public sealed class KeyRotationTests(GatewayCluster cluster)
{
    private const string OldSecret = "old-rotation-secret-0123456789abcdef";
    private const string NewSecret = "new-rotation-secret-0123456789abcdef";

    private static string KeysJson(string secret) =>
        System.Text.Json.JsonSerializer.Serialize(new { Gateway = new { Auth = new { Keys = new[] { new { Id = TestTokens.HmacKeyId, Algorithm = "HS256", Secret = secret } } } } });

    [Fact]
    public async Task KeysFile_Rewritten_NewKeyAcceptedOldRefusedWithoutRestart()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("ogw-keys-").FullName, "keys.json");
        await File.WriteAllTextAsync(file, KeysJson(OldSecret));
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Auth:KeysFile"] = file });
        string Query(string secret) => $"access_token={cluster.Tokens.Hs256("rotator", secret: secret)}";

        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(edge, Query(OldSecret))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestClient.TryConnectAsync(edge, Query(NewSecret))).Status);

        await File.WriteAllTextAsync(file, KeysJson(NewSecret));
        await GatewayClusterExtensions.EventuallyAsync(async () =>
            (await TestClient.TryConnectAsync(edge, Query(NewSecret))).Status == HttpStatusCode.SwitchingProtocols,
            TimeSpan.FromSeconds(30), "the rotated key to be picked up");
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestClient.TryConnectAsync(edge, Query(OldSecret))).Status);
    }
}
