using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Diagnostics;

/// <summary>The silo's health endpoints and meter, on the built Silo host running as its own process.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SiloDiagnosticsTests(GatewayCluster cluster)
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SiloProcess_JoinedCluster_LiveAndReady200()
    {
        using var silo = await SiloProcess.StartAsync(cluster, cluster.SiloSettings());
        try
        {
            Assert.Equal(HttpStatusCode.OK, await GatewayClusterExtensions.GetStatusAsync(silo.Http, "/health/live"));
            Assert.Equal(HttpStatusCode.OK, await GatewayClusterExtensions.GetStatusAsync(silo.Http, "/health/ready"));

            // Ready means joined: the cluster lists it as an active member.
            var hosts = await cluster.Backend.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            Assert.Contains(hosts.Keys, h => h.Endpoint.Port == silo.SiloPort);
        }
        finally
        {
            await silo.StopAsync(StopTimeout);
        }
    }

    [Fact]
    public async Task SiloProcessMetrics_MailboxOnIt_AcceptedMessagesAndEdgePushesCounted()
    {
        var run = Guid.NewGuid().ToString("N")[..8];

        // No session sweep during the test: its repush of a grain's newest message would be a fourth push.
        var settings = new Dictionary<string, string?>(cluster.SiloSettings()) { ["Gateway:Mailbox:SessionSweepInterval"] = "01:00:00" };
        using var silo = await SiloProcess.StartAsync(cluster, settings);
        try
        {
            await using var sender = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"sender-{run}"));
            var management = cluster.Backend.GetGrain<IManagementGrain>(0);

            // Fresh recipients until one's mailbox lives on the silo process.
            string? onSilo = null;
            var recipients = 0;
            await GatewayClusterExtensions.EventuallyAsync(async () =>
            {
                for (var i = 0; i < 10; i++, recipients++)
                {
                    var grain = cluster.Backend.GetGrain<IClientGrain>($"r{recipients}-{run}");
                    await grain.GetPresenceAsync();
                    if (onSilo is null && (await management.GetActivationAddress(grain))?.Endpoint.Port == silo.SiloPort)
                    {
                        onSilo = $"r{recipients}-{run}";
                    }
                }

                return onSilo is not null;
            }, TimeSpan.FromSeconds(30), "a mailbox on the silo process");

            var accepted = await Prometheus.ReadAsync(silo.Http, "ogw_silo_messages_accepted_total", "kind=\"client\"");
            var pushes = await Prometheus.ReadAsync(silo.Http, "ogw_silo_edge_pushes_total");
            var calls = await Prometheus.ReadAsync(silo.Http, "ogw_silo_edge_push_calls_total");
            await using var recipient = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256(onSilo!));
            await recipient.WaitForFrameAsync("welcome");
            // One at a time, each delivered before the next, sender and recipient on different edges: three messages
            // pushed to the recipient's edge and three answers to the sender's edge, six pushes in six calls, nothing
            // to coalesce.
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal("ok", (await sender.RequestAsync($$"""{"t":"send","id":"$id","to":"{{onSilo}}","data":{{i}}}""")).Type());
                await recipient.WaitForMessagesAsync(i + 1);
            }

            // Exactly: a message or a push counted twice must fail here.
            Assert.Equal(accepted + 3, await Prometheus.WaitForAsync(silo.Http, "ogw_silo_messages_accepted_total", accepted + 3, ["kind=\"client\""]));
            Assert.Equal(pushes + 6, await Prometheus.WaitForAsync(silo.Http, "ogw_silo_edge_pushes_total", pushes + 6));
            Assert.Equal(calls + 6, await Prometheus.WaitForAsync(silo.Http, "ogw_silo_edge_push_calls_total", calls + 6));
            Assert.Contains("orleans_", await Prometheus.ScrapeAsync(silo.Http)); // Orleans' own meters
        }
        finally
        {
            await silo.StopAsync(StopTimeout);
        }
    }

    [Fact]
    public async Task GrainMigrations_SiloStoppedGracefully_CountedOnTheSurvivorsMeters()
    {
        var third = await cluster.StartSiloAsync();
        await using var owned = cluster.Owned(third);
        await WaitForActiveSilosAsync(cluster, cluster.Silos.Count);
        await WaitForPlacementOnAsync(cluster, third);

        // The silo's meter as its own IMeterFactory scopes it: only the surviving silos' instruments are read.
        var survivors = cluster.Silos.Where(s => s != third).Select(s => (object)s.Host.Services.GetRequiredService<IMeterFactory>()).ToHashSet();
        long migrated = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GrainMetrics.MeterName && instrument.Name == "ogw.silo.grain.migrations" && instrument.Meter.Scope is { } scope && survivors.Contains(scope))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref migrated, value));
        listener.Start();
        Assert.Equal(0, Interlocked.Read(ref migrated));

        // Every mailbox and channel activation on the silo migrates (nothing else runs meanwhile): exactly that many
        // counted, so a migration counted twice fails here.
        var onThird = (await cluster.Backend.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics())
            .Where(s => s.SiloAddress.Endpoint.Port == third.SiloPort
                && (s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) || s.GrainType.Contains("ChannelGrain", StringComparison.Ordinal)))
            .Sum(s => s.ActivationCount);
        Assert.True(onThird > 0, "no mailbox on the silo: nothing to migrate");

        await cluster.StopSiloAsync(third);

        await GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref migrated) >= onThird), TimeSpan.FromSeconds(10), $"{onThird} grain migrations on the survivors");
        Assert.Equal(onThird, Interlocked.Read(ref migrated));
    }
}
