using System.Text.Json;
using Orleans.Runtime;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Durability;

/// <summary>What the silo-crash tests share: finding grains that live on the silo process about to be killed.</summary>
internal static class SiloCrashSupport
{
    /// <summary>Long enough for Orleans to declare a killed silo dead (6–20 s) and the edge's retries to land.</summary>
    public static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Connects recipients to <paramref name="edge"/> (each gets <paramref name="messages"/> messages from
    /// <paramref name="sender"/>) until at least one's client grain lives on <paramref name="silo"/>.
    /// </summary>
    public static async Task<List<(string Id, TestClient Client, bool OnSilo)>> ConnectRecipientsUntilOneOnAsync(
        GatewayCluster cluster, Uri edge, TestClient sender, SiloProcess silo, string prefix, int messages)
    {
        var recipients = new List<(string Id, TestClient Client)>();
        HashSet<GrainId> onSilo = [];
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            for (var i = 0; i < 4; i++)
            {
                var id = $"{prefix}{recipients.Count}";
                var client = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256(id));
                recipients.Add((id, client));
                await client.WaitForFrameAsync("welcome");
                for (var m = 0; m < messages; m++)
                {
                    Assert.Equal("ok", (await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{id}}","data":"{{id}}-{{m}}"}""")).Type());
                }

                await client.WaitForMessagesAsync(messages);
            }

            onSilo = await GrainsOnAsync(cluster, silo);
            return recipients.Any(r => onSilo.Contains(ClientGrain(cluster, r.Id)));
        }, TimeSpan.FromSeconds(60), "a recipient's mailbox on the silo process");

        return recipients.Select(r => (r.Id, r.Client, onSilo.Contains(ClientGrain(cluster, r.Id)))).ToList();
    }

    /// <summary>
    /// Starts an edge (without rate limits) whose lease grain does not live on <paramref name="silo"/>: an edge whose
    /// lease lapses while that grain comes back tells every session to reconnect, which would hide what a test checks.
    /// </summary>
    public static async Task<Uri> StartEdgeWithLeaseNotOnAsync(GatewayCluster cluster, SiloProcess silo)
    {
        var management = cluster.Backend.GetGrain<IManagementGrain>(0);
        var type = cluster.Backend.GetGrain<IEdgeGrain>("probe").GetGrainId().Type;
        for (var attempt = 0; ; attempt++)
        {
            var before = (await management.GetActiveGrains(type)).ToHashSet();
            var edge = await cluster.StartEdgeWithoutRateLimitsAsync(); // ready = its lease is held
            var mine = (await management.GetActiveGrains(type)).Except(before).ToList();
            var onSilo = await GrainsOnAsync(cluster, silo);
            if ((mine.Count == 1 && !onSilo.Contains(mine[0])) || attempt == 10)
            {
                return edge;
            }
        }
    }

    /// <summary>The grains active on <paramref name="silo"/>.</summary>
    public static async Task<HashSet<GrainId>> GrainsOnAsync(GatewayCluster cluster, SiloProcess silo)
    {
        var management = cluster.Backend.GetGrain<IManagementGrain>(0);
        var address = (await management.GetHosts(onlyActive: true)).Keys.Single(a => a.Endpoint.Port == silo.SiloPort);
        return (await management.GetDetailedGrainStatistics(null, [address])).Select(s => s.GrainId).ToHashSet();
    }

    public static GrainId ClientGrain(GatewayCluster cluster, string clientId) => cluster.Backend.GetGrain<IClientGrain>(clientId).GetGrainId();

    public static GrainId ChannelGrain(GatewayCluster cluster, string channel) => cluster.Backend.GetGrain<IChannelGrain>(channel).GetGrainId();

    /// <summary>Asserts the session was told <c>bye draining</c> with a <c>reconnect_ms</c> and closed with 1012.</summary>
    public static void AssertToldToReconnect(TestClient client)
    {
        var bye = client.Frames.Single(f => f.Type() == "bye");
        Assert.Equal("draining", bye.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Number, bye.GetProperty("reconnect_ms").ValueKind);
        Assert.Equal(1012, (int?)client.CloseStatus);
    }

    /// <summary>Connects until the cluster serves the client (refused or closed with 1013 while it recovers), returning its welcome.</summary>
    public static async Task<TestClient> ReconnectAsync(GatewayCluster cluster, Uri edge, string clientId, long lastSeq)
    {
        TestClient? served = null;
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            TestClient attempt;
            try
            {
                attempt = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256(clientId), lastSeq);
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
                return false; // refused (503) while the cluster recovers: a client would retry too
            }

            try
            {
                await attempt.WaitForFrameAsync("welcome", TimeSpan.FromSeconds(10));
                served = attempt;
                return true;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                await attempt.DisposeAsync();
                return false;
            }
        }, RecoveryTimeout, $"{clientId} to be served again");
        return served!;
    }
}
