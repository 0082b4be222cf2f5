using System.Net.WebSockets;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Diagnostics;

/// <summary>
/// Each edge metric moves when the behaviour it names happens: drive the behaviour on an edge process of its own, then
/// read that edge's <c>/metrics</c>. A process of its own, so that nothing else the test process runs touches the counts.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class EdgeMetricsTests(GatewayCluster cluster)
{
    private const string Closed = "ogw_edge_connections_closed_total";

    [Fact]
    public async Task ConnectionsClosed_FrameOverLimit_CountedUnderCode1009()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var process = await EdgeProcess.StartAsync(cluster, new Dictionary<string, string?> { ["Gateway:Edge:MaxFrameBytes"] = "1024" });
        var edge = process.Uri;
        var before1009 = await Prometheus.ReadAsync(edge, Closed, "code=\"1009\"");
        var before1000 = await Prometheus.ReadAsync(edge, Closed, "code=\"1000\"");
        await using var client = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"big-{run}"));
        await client.WaitForFrameAsync("welcome");

        try
        {
            await client.SendTextAsync($$"""{"t":"ping","id":"{{new string('x', 2048)}}"}""");
        }
        catch (WebSocketException)
        {
            // The server may close while we are still writing.
        }

        await client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, client.CloseStatus);
        Assert.Equal(before1009 + 1, await Prometheus.WaitForAsync(edge, Closed, before1009 + 1, ["code=\"1009\""]));
        Assert.Equal(before1000, await Prometheus.ReadAsync(edge, Closed, "code=\"1000\""));
    }

    [Fact]
    public async Task FramesInAndOut_TwentyPings_EachCounted()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var process = await EdgeProcess.StartAsync(cluster);
        var edge = process.Uri;
        await using var client = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"pinger-{run}"));
        await client.WaitForFrameAsync("welcome");
        var framesIn = await Prometheus.ReadAsync(edge, "ogw_edge_frames_in_total");
        var framesOut = await Prometheus.ReadAsync(edge, "ogw_edge_frames_out_total");

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("pong", (await client.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
        }

        // Exactly: a frame counted twice (say by the codec and the session) must fail here.
        Assert.Equal(framesIn + 20, await Prometheus.WaitForAsync(edge, "ogw_edge_frames_in_total", framesIn + 20));
        Assert.Equal(framesOut + 20, await Prometheus.WaitForAsync(edge, "ogw_edge_frames_out_total", framesOut + 20));
    }

    /// <summary>
    /// Sends go to the cluster gathered (<c>Gateway:Edge:BatchSends</c>, the default): every send is counted once, in at
    /// most as many calls as sends. Twenty clients send at once so that some may share a call; how many do depends on
    /// timing, so only the bounds are asserted (the gathering itself is proved by <c>SendBatcherTests</c>).
    /// </summary>
    [Fact]
    public async Task SendsBatched_TwentyClientsSendAtOnce_EverySendCountedInAtMostAsManyCalls()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var process = await EdgeProcess.StartAsync(cluster);
        var edge = process.Uri;
        var senders = new List<TestClient>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var sender = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"s{i}-{run}"));
                await sender.WaitForFrameAsync("welcome");
                senders.Add(sender);
            }

            var sends = await Prometheus.ReadAsync(edge, "ogw_edge_sends_batched_total");
            var calls = await Prometheus.ReadAsync(edge, "ogw_edge_send_calls_total");

            var answers = await Task.WhenAll(senders.Select((s, i) => s.RequestAsync($$"""{"t":"send","id":"$id","to":"r{{i}}-{{run}}","data":1}""")));

            Assert.All(answers, a => Assert.Equal("ok", a.Type()));
            Assert.Equal(sends + 20, await Prometheus.WaitForAsync(edge, "ogw_edge_sends_batched_total", sends + 20));
            var made = await Prometheus.ReadAsync(edge, "ogw_edge_send_calls_total") - calls;
            Assert.InRange(made, 1, 20);
        }
        finally
        {
            foreach (var sender in senders)
            {
                await sender.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ResumeReplayed_ResumeAfterMissing15_Counts15AndNoNotRecovered()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var process = await EdgeProcess.StartAsync(cluster);
        var edge = process.Uri;
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        await SendAcknowledgedAsync(alice, $"bob-{run}", 15);
        var replayed = await Prometheus.ReadAsync(edge, "ogw_edge_resume_replayed_total");
        var notRecovered = await Prometheus.ReadAsync(edge, "ogw_edge_resume_not_recovered_total");

        await using var bob = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"bob-{run}"), lastSeq: 0);
        Assert.True((await bob.WaitForFrameAsync("welcome")).GetProperty("recovered").GetBoolean());
        await bob.WaitForMessagesAsync(15);

        Assert.Equal(replayed + 15, await Prometheus.WaitForAsync(edge, "ogw_edge_resume_replayed_total", replayed + 15));
        Assert.Equal(notRecovered, await Prometheus.ReadAsync(edge, "ogw_edge_resume_not_recovered_total"));
    }

    [Fact]
    public async Task ResumeNotRecovered_ResumeBeyondRetention_CountedOnce()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var process = await EdgeProcess.StartAsync(cluster);
        var edge = process.Uri;
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        await SendAcknowledgedAsync(alice, $"bob-{run}", GatewayCluster.RetainedMessages + 10);
        var notRecovered = await Prometheus.ReadAsync(edge, "ogw_edge_resume_not_recovered_total");

        await using var bob = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"bob-{run}"), lastSeq: 0);
        Assert.False((await bob.WaitForFrameAsync("welcome")).GetProperty("recovered").GetBoolean());

        Assert.Equal(notRecovered + 1, await Prometheus.WaitForAsync(edge, "ogw_edge_resume_not_recovered_total", notRecovered + 1));
    }

    [Fact]
    public async Task OutboxOverflows_ReaderStopsReading_CountedWhenClosedAsSlowConsumer()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var process = await EdgeProcess.StartAsync(cluster, new Dictionary<string, string?>
        {
            ["Gateway:Edge:OutboxCapacity"] = "8",
            ["Gateway:Limits:BytesPerSecond"] = "1000000000",
            ["Gateway:Limits:ByteBurst"] = "1000000000",
            ["Gateway:Limits:FrameBurst"] = "10000",
            ["Gateway:Limits:ClientBytesPerSecond"] = "1000000000",
            ["Gateway:Limits:ClientByteBurst"] = "1000000000",
            ["Gateway:Limits:ClientFrameBurst"] = "10000",
        });
        var edge = process.Uri;
        var overflows = await Prometheus.ReadAsync(edge, "ogw_edge_outbox_overflows_total");
        await using var sender = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"s-{run}"));
        await using var slow = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"slow-{run}"), startReading: false);

        // Big messages to a client that reads nothing fill the socket buffers, then its 8-frame outbox.
        var payload = $"\"{new string('x', 48 * 1024)}\"";
        var sent = 0;
        await GatewayClusterExtensions.EventuallyAsync(async () =>
        {
            for (var i = 0; i < 25; i++, sent++)
            {
                await sender.SendAsync($"slow-{run}", payload);
            }

            await sender.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == sent, what: "every send acknowledged");
            return await Prometheus.ReadAsync(edge, "ogw_edge_outbox_overflows_total") >= overflows + 1;
        }, TimeSpan.FromSeconds(30), "the slow consumer's outbox to overflow");

        slow.StartReading();
        Assert.Equal("slow_consumer", (await slow.WaitForFrameAsync("bye", TimeSpan.FromSeconds(30))).GetProperty("code").GetString());
        Assert.Equal(overflows + 1, await Prometheus.ReadAsync(edge, "ogw_edge_outbox_overflows_total"));
    }

    [Fact]
    public async Task Drains_WhileDraining_InProgressAndDrainedSessionsCountedUnder1012()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var process = await EdgeProcess.StartAsync(cluster, HeldDrainSettings());
        var edge = process.Uri;
        await using var first = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"a-{run}"));
        await using var second = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"b-{run}"));
        await first.WaitForFrameAsync("welcome");
        await second.WaitForFrameAsync("welcome");
        Assert.Equal(0, await Prometheus.ReadAsync(edge, "ogw_edge_drains"));
        var closed1012 = await Prometheus.ReadAsync(edge, Closed, "code=\"1012\"");

        await DrainAsync(edge);

        // The first batch (one session) is closed with 1012 while the second waits for the next batch.
        Assert.Equal(closed1012 + 1, await Prometheus.WaitForAsync(edge, Closed, closed1012 + 1, ["code=\"1012\""]));
        Assert.Equal(1, await Prometheus.ReadAsync(edge, "ogw_edge_drains"));
        Assert.True(new[] { first, second }.Any(c => !c.Closed), "both sessions closed: the drain may have ended before the scrape");
    }

    private static async Task SendAcknowledgedAsync(TestClient sender, string to, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await sender.SendAsync(to, i.ToString());
        }

        await sender.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == count, what: $"{count} sends acknowledged");
    }
}
