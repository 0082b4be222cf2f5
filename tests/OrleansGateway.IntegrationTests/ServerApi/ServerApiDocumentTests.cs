using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.ServerApi;

/// <summary>The served OpenAPI document equals the committed docs/server-api.openapi.json: the contract cannot drift silently.</summary>
[Collection(ServerApiCollection.Name)]
public sealed class ServerApiDocumentTests(ServerApiGatewayCluster cluster)
{
    /// <summary>Set to 1 to rewrite the committed copy from the served document (then review the diff).</summary>
    private const string UpdateVariable = "OGW_UPDATE_OPENAPI";

    [Fact]
    public async Task OpenApiDocument_Served_EqualsTheCommittedCopy()
    {
        using var http = cluster.Api(key: null);
        var response = await http.GetAsync("/openapi/server-api.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var served = Normalize(await response.Content.ReadAsStringAsync());
        var path = Path.Combine(RepositoryRoot(), "docs", "server-api.openapi.json");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            await File.WriteAllTextAsync(path, served);
        }

        Assert.True(File.Exists(path), $"{path} is missing: run this test with {UpdateVariable}=1 and commit the file");
        var committed = Normalize(await File.ReadAllTextAsync(path));
        Assert.True(committed == served,
            $"The served OpenAPI document differs from docs/server-api.openapi.json. If the change is intended, run this test with {UpdateVariable}=1 and commit the file.");
    }

    [Fact]
    public async Task OpenApiDocument_Served_ListsEveryCall()
    {
        using var http = cluster.Api(key: null);
        var document = JsonNode.Parse(await http.GetStringAsync("/openapi/server-api.json"))!;
        var paths = document["paths"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal);
        Assert.Equal(
            [
                "/api/v1/channels/history", "/api/v1/channels/members", "/api/v1/channels/stats", "/api/v1/clients/{clientId}/disconnect",
                "/api/v1/clients/{clientId}/mailbox", "/api/v1/clients/{clientId}/presence", "/api/v1/cluster", "/api/v1/publish",
                "/api/v1/publish/batch", "/api/v1/send", "/api/v1/send/batch",
            ],
            paths);
    }

    [Fact]
    public async Task OpenApiDocument_Served_DeclaresTheApiKeySchemeForEveryCall()
    {
        using var http = cluster.Api(key: null);
        var document = JsonNode.Parse(await http.GetStringAsync("/openapi/server-api.json"))!;
        var scheme = document["components"]!["securitySchemes"]!["apikey"]!;
        Assert.Equal(("apiKey", "header", "Authorization"), (scheme["type"]!.GetValue<string>(), scheme["in"]!.GetValue<string>(), scheme["name"]!.GetValue<string>()));
        var requirement = Assert.Single(document["security"]!.AsArray())!.AsObject();
        Assert.Equal("apikey", Assert.Single(requirement).Key);
    }

    private static string Normalize(string json) =>
        JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }).ReplaceLineEndings("\n") + "\n";

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OrleansGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No OrleansGateway.sln above {AppContext.BaseDirectory}.");
    }
}
