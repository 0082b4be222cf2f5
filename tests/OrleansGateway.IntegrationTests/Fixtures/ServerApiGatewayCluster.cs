using System.Net.Http.Headers;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A gateway whose edges serve the HTTP server API, each on its own loopback port: two silos, two edges, one
/// read-write and one read-only key, a small body limit so the 413 test needs no megabyte body.
/// </summary>
public class ServerApiGatewayCluster : GatewayCluster
{
    public const string WriteKey = "test-write-key-0123456789";
    public const string ReadOnlyKey = "test-read-only-key-0123456789";
    public const string WriteKeyName = "billing";
    public const int MaxBodyBytes = 4096;

    private readonly List<Uri> _apis = [];

    public ServerApiGatewayCluster() : this(silos: 2, edges: 2)
    {
    }

    protected ServerApiGatewayCluster(int silos, int edges) : base(silos, edges: 0) => ApiEdges = edges;

    /// <summary>The API base URI (<c>http://127.0.0.1:port</c>) of each edge, in <see cref="GatewayCluster.Edges"/> order.</summary>
    public IReadOnlyList<Uri> Apis => _apis;

    private int ApiEdges { get; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        for (var i = 0; i < ApiEdges; i++)
        {
            var port = FreeTcpPort();
            await StartEdgeAsync(ApiSettings(port));
            _apis.Add(new Uri($"http://127.0.0.1:{port}"));
        }
    }

    public static Dictionary<string, string?> ApiSettings(int port) => new()
    {
        ["Gateway:ServerApi:Enabled"] = "true",
        ["Gateway:ServerApi:Port"] = port.ToString(),
        ["Gateway:ServerApi:Host"] = "127.0.0.1",
        ["Gateway:ServerApi:MaxBodyBytes"] = MaxBodyBytes.ToString(),
        ["Gateway:ServerApi:RetryAfter"] = "00:00:07",
        ["Gateway:ServerApi:Keys:0:Name"] = WriteKeyName,
        ["Gateway:ServerApi:Keys:0:Key"] = WriteKey,
        ["Gateway:ServerApi:Keys:1:Name"] = "dashboard",
        ["Gateway:ServerApi:Keys:1:Key"] = ReadOnlyKey,
        ["Gateway:ServerApi:Keys:1:ReadOnly"] = "true",
    };

    /// <summary>
    /// Waits until the cluster counts <paramref name="clientId"/> online (asked through the API): a client grain counts
    /// a session only once it knows its edge's lease is current, which on a just-started cluster trails the welcome.
    /// </summary>
    public async Task WaitOnlineAsync(string clientId, int sessions = 1)
    {
        using var http = Api();
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            var body = await http.GetStringAsync($"/api/v1/clients/{clientId}/presence");
            return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("sessions").GetInt32() >= sessions;
        }, TimeSpan.FromSeconds(20), $"{clientId} online");
    }

    /// <summary>An HTTP client for edge <paramref name="edge"/>'s API, authenticated with <paramref name="key"/> (none when null).</summary>
    public HttpClient Api(int edge = 0, string? key = WriteKey)
    {
        var http = new HttpClient { BaseAddress = _apis[edge], Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("apikey", key);
        }

        return http;
    }
}

[CollectionDefinition(Name)]
public sealed class ServerApiCollection : ICollectionFixture<ServerApiGatewayCluster>
{
    public const string Name = "server-api";
}
