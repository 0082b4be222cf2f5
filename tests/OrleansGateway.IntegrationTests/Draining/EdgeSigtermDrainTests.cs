using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Draining;

/// <summary>The drain as Kubernetes starts it: SIGTERM to a real edge process with live sessions.</summary>
[Collection(GatewayCollection.Name)]
public sealed class EdgeSigtermDrainTests(GatewayCluster cluster)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task EdgeProcess_SigtermTwiceWithLiveSessions_PacedByeDraining1012ThenExitsWithinDeadline()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var edge = await EdgeProcess.StartAsync(cluster, new Dictionary<string, string?>
        {
            ["Gateway:Drain:BatchSize"] = "1",
            ["Gateway:Drain:BatchInterval"] = "00:00:01",
            ["Gateway:Drain:MaxReconnectDelay"] = "00:00:00.300",
            ["Gateway:Drain:Deadline"] = Deadline.ToString(),
            ["Gateway:Edge:RetryAfterSeconds"] = "3",
        });
        var clients = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = await TestClient.ConnectAsync(edge.Uri, cluster.Tokens.Hs256($"c{i}-{run}"));
            await client.WaitForFrameAsync("welcome");
            clients.Add(client);
        }

        var sinceSigterm = Stopwatch.StartNew();
        edge.Terminate();
        int Told() => clients.Count(c => c.Frames.Any(f => f.Type() == "bye"));
        await GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(Told() > 0), Deadline, "the first batch to be told");

        // Mid-drain (one session per second): a second SIGTERM, and the edge still answers, refusing upgrades.
        edge.Terminate();
        var (status, retryAfter) = await TestClient.TryConnectAsync(edge.Uri, $"access_token={cluster.Tokens.Hs256($"late-{run}")}");
        Assert.True(Told() < clients.Count, "every session was told before the second SIGTERM: it did not land mid-drain");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("3", retryAfter);

        // The second SIGTERM changed nothing: every session still gets bye draining and a 1012, none is cut off.
        foreach (var client in clients)
        {
            await client.WaitClosedAsync(Deadline);
            Assert.True(client.CloseStatus == (WebSocketCloseStatus)1012, $"closed with {client.CloseStatus} ({client.Error?.Message})");
            var bye = client.Frames[^1];
            Assert.Equal("bye", bye.Type());
            Assert.Equal("draining", bye.GetProperty("code").GetString());
            Assert.InRange(bye.GetProperty("reconnect_ms").GetInt32(), 0, 300);
            await client.DisposeAsync();
        }

        Assert.True(await edge.WaitForExitAsync(Deadline), $"still running {sinceSigterm.Elapsed} after SIGTERM");
        Assert.True(sinceSigterm.Elapsed < Deadline, $"exited {sinceSigterm.Elapsed} after SIGTERM, past the {Deadline} drain deadline");
        Assert.Equal(0, edge.ExitCode);
    }
}
