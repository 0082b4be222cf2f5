using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Restarts;

/// <summary>
/// A graceful stop as Kubernetes does it: SIGTERM to a real silo process (the built Silo host) under traffic. Memory
/// durability, so a mailbox that was re-created empty instead of migrated cannot hide behind a reload from Redis.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class SiloProcessStopTests(GatewayCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task SiloProcess_SigtermUnderTraffic_MailboxesMigrateNothingLostNobodyReconnects()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var silo = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());
        await WaitForActiveSilosAsync(cluster, cluster.Silos.Count + 1);
        await WaitForPlacementOnAsync(cluster, silo.SiloPort);
        await using var traffic = await Traffic.StartAsync(cluster, 60, i => () => cluster.Edges[i % 2], run);
        traffic.Run(TimeSpan.FromMilliseconds(100));
        await WaitForAckedAsync(traffic, 300);

        // The clients whose mailboxes live on the silo process, and how far each had received before the stop.
        var management = cluster.Backend.GetGrain<Orleans.Runtime.IManagementGrain>(0);
        var onSilo = new List<(ResilientClient Client, int ReceivedBefore)>();
        foreach (var client in traffic.Clients)
        {
            var address = await management.GetActivationAddress(cluster.Backend.GetGrain<IClientGrain>(client.ClientId));
            if (address?.Endpoint.Port == silo.SiloPort)
            {
                onSilo.Add((client, client.Received.Count));
            }
        }

        Assert.True(onSilo.Count > 0, "no mailbox on the silo process: the test would prove nothing");
        Assert.All(onSilo, c => Assert.True(c.ReceivedBefore > 0, $"{c.Client.ClientId} had received nothing before the stop"));

        traffic.Mark("SIGTERM to the silo process");
        await silo.StopAsync(TimeSpan.FromSeconds(60));
        traffic.Mark("silo process exited");
        var acked = traffic.AckedCount;
        await WaitForAckedAsync(traffic, acked + 300);
        await traffic.StopSendingAsync();

        // No acknowledged message lost, none out of order, no gap in any seq; sessions moved with their grains.
        output.WriteLine(await traffic.AssertNothingLostAsync(TimeSpan.FromSeconds(30), new Dictionary<string, string>
        {
            // As with an in-process silo (SiloStopTests): a call in flight to the stopping silo can outlast the edge's call
            // timeout; answered unavailable, sent again with its key, taken once.
            ["unavailable"] = "a call in flight to the stopping silo timed out at the edge",
        }));
        Assert.All(traffic.Clients, c => Assert.Equal(1, c.Connections));
        Assert.All(onSilo, c => Assert.True(c.Client.Received.Count > c.ReceivedBefore, $"{c.Client.ClientId} received nothing after the stop"));

        // Migrated, not re-created empty: a resume from a seq the stopped silo had issued is recovered and replays,
        // in seq order, exactly what the client had received since (the messages of both activations).
        foreach (var (client, receivedBefore) in onSilo)
        {
            var received = client.Received; // fresh client: welcome seq 0, so message i carries seq i + 1
            var lastSeq = receivedBefore - 1;
            await using var resume = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256(client.ClientId), lastSeq: lastSeq);
            var welcome = await resume.WaitForFrameAsync("welcome");
            Assert.True(welcome.GetProperty("recovered").GetBoolean(), $"{client.ClientId}: {welcome}");
            Assert.Equal(received.Count, welcome.GetProperty("seq").GetInt64());
            await resume.WaitForMessagesAsync(received.Count - lastSeq);
            var replay = resume.Messages;
            Assert.Equal(Enumerable.Range(lastSeq + 1, received.Count - lastSeq).Select(i => (long)i), replay.Select(m => m.Seq()));
            Assert.Equal(received.Skip(lastSeq), replay.Select(m => m.GetProperty("data").GetString()));
        }
    }
}
