using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>
/// End to end through the real client grains: backend records produced to Kafka reach connected WebSocket clients
/// while a silo that reads some of the partitions and hosts some of the mailboxes is stopped.
/// </summary>
public sealed class KafkaGatewayRestartTests(KafkaGatewayCluster cluster) : IClassFixture<KafkaGatewayCluster>
{
    private const int Clients = 12;
    private const int PerClient = 30;

    [Fact]
    public async Task SiloStopped_WhileBackendRecordsFlow_EveryClientGetsEveryRecordOnceInOrder()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var third = await cluster.StartSiloAsync();
        await WaitForActiveSilosAsync(cluster, 3);
        await WaitForPlacementOnAsync(cluster, third);

        var clients = new List<TestClient>();
        for (var i = 0; i < Clients; i++)
        {
            clients.Add(await TestClient.ConnectAsync(cluster.Edges[i % 2], cluster.Tokens.Hs256($"k{i}-{run}")));
        }

        async Task ProduceAsync(int from, int to)
        {
            for (var n = from; n < to; n++)
            {
                for (var i = 0; i < Clients; i++)
                {
                    await cluster.Producer.ProduceAsync(cluster.InboundTopic, KafkaTestKit.Record($"k{i}-{run}", $$"""{"n":{{n}}}""", target: "client", from: "billing"));
                }
            }
        }

        await ProduceAsync(0, PerClient / 2);
        await Task.WhenAll(clients.Select(c => c.WaitForMessagesAsync(PerClient / 2, KafkaTestKit.Timeout)));
        await WaitForClientGrainsOnAsync(cluster, third);

        // Records keep arriving while the silo stops: its partitions move to the survivors (resuming from its final
        // commit; anything read again is dropped by the grains' migrated Kafka positions) and its mailboxes migrate.
        var producing = ProduceAsync(PerClient / 2, PerClient);
        await cluster.StopSiloAsync(third);
        await producing;

        // A last record per client: records of one key are read in order from one partition, so once it arrives any
        // re-read copy of an earlier record would have arrived before it (as an extra message with its own seq).
        await ProduceAsync(PerClient, PerClient + 1);
        foreach (var client in clients)
        {
            await client.WaitUntilAsync(f => f.Any(x => x.Type() == "msg" && x.GetProperty("data").GetProperty("n").GetInt32() == PerClient), TimeSpan.FromSeconds(60));
            var messages = client.Messages;
            Assert.Equal(Enumerable.Range(0, PerClient + 1), messages.Select(m => m.GetProperty("data").GetProperty("n").GetInt32()));
            Assert.Equal(Enumerable.Range(1, PerClient + 1).Select(i => (long)i), messages.Select(m => m.Seq()));
            Assert.All(messages, m => Assert.Equal("billing", m.GetProperty("from").GetString()));
            Assert.False(client.Closed); // the mailboxes migrated with their sessions: nobody had to reconnect
        }

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }
}
