using System.Net;

namespace OrleansGateway.IntegrationTests.Fixtures;

internal static class GatewayClusterExtensions
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>
    /// Starts an edge without frame rate limits, for tests whose sender loops until the cluster reaches a state
    /// (placement on a new silo) and may send more than a client's budget allows in that time.
    /// </summary>
    public static Task<Uri> StartEdgeWithoutRateLimitsAsync(this GatewayCluster cluster) =>
        cluster.StartEdgeAsync(new Dictionary<string, string?>
        {
            ["Gateway:Limits:FramesPerSecond"] = "1000000",
            ["Gateway:Limits:FrameBurst"] = "1000000",
            ["Gateway:Limits:ClientFramesPerSecond"] = "1000000",
            ["Gateway:Limits:ClientFrameBurst"] = "1000000",
        });

    /// <summary>Retries <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes (then fails).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string what = "condition")
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>The HTTP status of <c>GET <paramref name="path"/></c> on a host (edge or silo), e.g. <c>/health/ready</c>.</summary>
    public static async Task<HttpStatusCode> GetStatusAsync(Uri host, string path)
    {
        using var response = await Http.GetAsync(new UriBuilder(host) { Scheme = "http", Path = path, Query = "" }.Uri);
        return response.StatusCode;
    }
}
