using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Diagnostics;

[Collection(GatewayCollection.Name)]
public sealed class MetricsTests(GatewayCluster cluster)
{
    [Fact]
    public async Task Metrics_AfterTraffic_PrometheusEndpointReportsEdgeAndOrleansMeters()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bob-{run}"));
        await bob.WaitForFrameAsync("welcome");
        await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":1}""");
        await bob.WaitForMessagesAsync(1);

        using var http = new HttpClient();
        var url = new UriBuilder(cluster.Edges[0]) { Scheme = "http", Path = "/metrics" }.Uri;
        string text = "";
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            text = await http.GetStringAsync(url);
            return text.Contains("ogw_edge_messages_delivered", StringComparison.Ordinal);
        }, what: "edge metrics to be exported");

        Assert.Contains("ogw_edge_connections_opened", text);
        Assert.Contains("ogw_edge_frames_in", text);
        Assert.Contains("ogw_edge_delivery_latency_milliseconds_bucket", text);
        Assert.Contains("orleans_", text); // Orleans' own meters (client side)
    }
}
