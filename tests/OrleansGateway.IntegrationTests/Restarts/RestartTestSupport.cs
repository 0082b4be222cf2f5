using System.Net;
using System.Net.Http.Headers;
using Orleans.Runtime;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Restarts;

internal static class RestartTestSupport
{
    public const string AdminToken = "test-admin-token-0123456789";

    /// <summary>Drain settings scaled for tests: small batches, short pauses and reconnect delays.</summary>
    public static Dictionary<string, string?> DrainSettings() => new()
    {
        ["Gateway:Drain:BatchSize"] = "40",
        ["Gateway:Drain:BatchInterval"] = "00:00:00.200",
        ["Gateway:Drain:MaxReconnectDelay"] = "00:00:00.300",
        ["Gateway:Drain:Deadline"] = "00:00:20",
        ["Gateway:Drain:AdminToken"] = AdminToken,
    };

    /// <summary>
    /// One session per batch and a long pause: with two sessions the second is told only after the pause, so the
    /// drain is certainly still in progress right after it began.
    /// </summary>
    public static Dictionary<string, string?> HeldDrainSettings() => new(DrainSettings())
    {
        ["Gateway:Drain:BatchSize"] = "1",
        ["Gateway:Drain:BatchInterval"] = "00:00:05",
    };

    public static async Task DrainAsync(Uri edge)
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Post, new UriBuilder(edge) { Scheme = "http", Path = "/admin/drain" }.Uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    public static Task WaitForAckedAsync(Traffic traffic, int atLeast) =>
        GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(traffic.AckedCount >= atLeast), TimeSpan.FromSeconds(60), $"{atLeast} acknowledged messages");

    public static Task WaitForActiveSilosAsync(GatewayCluster cluster, int count) =>
        GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            try
            {
                return (await cluster.Backend.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count == count;
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException or Orleans.Serialization.CodecNotFoundException)
            {
                // The backend's own gateway silo just left; its client reconnects to another. Or the membership table is
                // still reconnecting after a Redis restart: Orleans' management grain then fails with StackExchange.Redis'
                // exception, which Orleans cannot serialize (seen in a full run). Ask again.
                return false;
            }
        }, TimeSpan.FromSeconds(60), $"{count} active silos");

    /// <summary>
    /// Waits until placement uses <paramref name="silo"/>: a newly joined silo gets activations only once the
    /// others have its membership and grain manifest. Probes with presence calls on fresh client ids.
    /// </summary>
    public static Task WaitForPlacementOnAsync(GatewayCluster cluster, SiloHandle silo) => WaitForPlacementOnAsync(cluster, silo.SiloPort);

    /// <summary>As above, for the silo listening on <paramref name="siloPort"/> (an in-process silo or a silo process).</summary>
    public static async Task WaitForPlacementOnAsync(GatewayCluster cluster, int siloPort)
    {
        var probe = 0;
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await cluster.Backend.GetGrain<OrleansGateway.Grains.IClientGrain>($"probe-{Guid.NewGuid():N}-{probe++}").GetPresenceAsync();
            }

            return (await cluster.Backend.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics())
                .Any(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) && s.SiloAddress.Endpoint.Port == siloPort && s.ActivationCount > 0);
        }, TimeSpan.FromSeconds(60), "placement to use the new silo");
    }

    public static Task WaitForClientGrainsOnAsync(GatewayCluster cluster, SiloHandle silo) =>
        GatewayClusterExtensions.EventuallyAsync(async () =>
            (await cluster.Backend.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics())
                .Any(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) && s.SiloAddress.Endpoint.Port == silo.SiloPort && s.ActivationCount > 0),
            TimeSpan.FromSeconds(60), "mailboxes on the silo about to stop");
}
