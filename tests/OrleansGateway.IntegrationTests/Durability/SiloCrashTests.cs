using System.Diagnostics;
using Orleans.Runtime;
using OrleansGateway.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.Durability;

public sealed class SiloCrashTests(DurableRedisCluster cluster, ITestOutputHelper output) : IClassFixture<DurableRedisCluster>
{
    [Fact]
    public async Task SiloProcess_KilledWithSigkill_RedisDurabilityLosesNoAcknowledgedMessage()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());
        var management = cluster.Backend.GetGrain<IManagementGrain>(0);
        await using var sender = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"sender-{run}"));

        // Mailboxes of offline recipients, until some of them live on the silo we will kill.
        var recipients = 0;
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            for (var i = 0; i < 10; i++, recipients++)
            {
                for (var m = 0; m < 3; m++)
                {
                    await sender.SendAsync($"r{recipients}-{run}", $"\"{recipients}-{m}\"");
                }
            }

            await sender.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == recipients * 3);
            var stats = await management.GetSimpleGrainStatistics();
            return stats.Any(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) && s.SiloAddress.Endpoint.Port == doomed.SiloPort && s.ActivationCount > 0);
        }, TimeSpan.FromSeconds(60), "mailboxes on the silo process");

        var onDoomed = (await management.GetSimpleGrainStatistics())
            .Where(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) && s.SiloAddress.Endpoint.Port == doomed.SiloPort).Sum(s => s.ActivationCount);
        var clock = Stopwatch.StartNew();
        doomed.Kill();

        // Every recipient resumes from 0 and gets its 3 acknowledged messages, however long the cluster takes to
        // declare the dead silo dead and re-activate its grains from Redis.
        for (var r = 0; r < recipients; r++)
        {
            TestClient? client = null;
            await GatewayClusterExtensions.EventuallyAsync(async () =>
            {
                TestClient attempt;
                try
                {
                    attempt = await TestClient.ConnectAsync(cluster.Edges[r % 2], cluster.Tokens.Hs256($"r{r}-{run}"), lastSeq: 0);
                }
                catch (System.Net.WebSockets.WebSocketException)
                {
                    return false; // refused (e.g. 503) while the cluster recovers: a client would retry too
                }

                try
                {
                    await attempt.WaitForFrameAsync("welcome", TimeSpan.FromSeconds(10));
                    client = attempt;
                    return true;
                }
                catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
                {
                    await attempt.DisposeAsync(); // closed with 1013 while its grain was unreachable: try again
                    return false;
                }
            }, TimeSpan.FromSeconds(90), $"recipient {r} to be served");

            await using var served = client!;
            var welcome = served.Frames[0];
            Assert.True(welcome.GetProperty("recovered").GetBoolean(), $"recipient {r}: {welcome}");
            Assert.Equal(3, welcome.Seq());
            await served.WaitForMessagesAsync(3);
            Assert.Equal([$"{r}-0", $"{r}-1", $"{r}-2"], served.Messages.Select(m => m.GetProperty("data").GetString()));
        }

        output.WriteLine($"{onDoomed} mailboxes on the killed silo; all {recipients} recipients served {clock.Elapsed.TotalSeconds:F1} s after SIGKILL");
    }
}
