using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Resume;

[Collection(GatewayCollection.Name)]
public sealed class ResumeTests(GatewayCluster cluster)
{
    [Fact]
    public async Task Resume_OnOtherEdgeAfterMissing50_GetsExactlyThe50Recovered()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"));
        await bob.WaitForFrameAsync("welcome");
        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync($"bob-{run}", $"\"before-{i}\"");
        }

        await bob.WaitForMessagesAsync(5);
        var lastSeen = bob.Messages[^1].Seq();
        await bob.DisposeAsync(); // bob closes his laptop

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":"missed-{{i}}"}""")).Type());
        }

        await using var again = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bob-{run}"), lastSeq: lastSeen);
        var welcome = await again.WaitForFrameAsync("welcome");
        Assert.True(welcome.GetProperty("recovered").GetBoolean());
        Assert.Equal(lastSeen + 50, welcome.Seq());
        await again.WaitForMessagesAsync(50);

        await alice.SendAsync($"bob-{run}", "\"live\"");
        await again.WaitForMessagesAsync(51);
        var messages = again.Messages;
        Assert.Equal(51, messages.Count);
        Assert.Equal(Enumerable.Range(1, 51).Select(i => lastSeen + i), messages.Select(m => m.Seq()));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"missed-{i}").Append("live"), messages.Select(m => m.GetProperty("data").GetString()));
        Assert.Equal("welcome", again.Frames[0].Type());
    }

    [Fact]
    public async Task Resume_AfterMoreThanRetention_ReportsNotRecoveredAndReplaysWhatIsLeft()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        var total = GatewayCluster.RetainedMessages + 20;
        for (var i = 0; i < total; i++)
        {
            await alice.SendAsync($"bob-{run}", i.ToString());
        }

        await alice.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == total);

        await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"), lastSeq: 0);
        var welcome = await bob.WaitForFrameAsync("welcome");
        Assert.False(welcome.GetProperty("recovered").GetBoolean());
        Assert.Equal(total, welcome.Seq());
        await bob.WaitForMessagesAsync(GatewayCluster.RetainedMessages);
        Assert.Equal(Enumerable.Range(21, GatewayCluster.RetainedMessages).Select(i => (long)i), bob.Messages.Select(m => m.Seq()));
    }

    [Fact]
    public async Task Resume_WhileSenderKeepsSending_NoGapNoReorderAtTheSeam()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"));
        await bob.WaitForFrameAsync("welcome");

        using var stop = new CancellationTokenSource();
        var sent = 0;
        var sending = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && sent < 5_000)
            {
                await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":{{sent}}}""");
                sent++;
            }
        });

        await bob.WaitForMessagesAsync(20);
        var lastSeen = bob.Messages[^1].Seq();
        bob.Abort(); // an abrupt drop, mid-traffic

        await using var again = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bob-{run}"), lastSeq: lastSeen);
        await again.WaitForMessagesAsync(50);
        await stop.CancelAsync();
        await sending.WaitAsync(TestClient.DefaultTimeout);
        var total = sent;
        await again.WaitUntilAsync(f => f.Count(x => x.Type() == "msg") >= total - lastSeen);

        Assert.True(again.Frames[0].GetProperty("recovered").GetBoolean());
        var seqs = again.Messages.Select(m => m.Seq()).ToList();
        Assert.Equal(Enumerable.Range(1, total - (int)lastSeen).Select(i => lastSeen + i), seqs);
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task Push_LostInsideTheCluster_EdgeRepairsTheGapInOrder()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bob-{run}"));
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"alice-{run}"));
        await bob.WaitForFrameAsync("welcome");

        PushDropFilter.DropNext($"bob-{run}", 2);
        for (var i = 1; i <= 3; i++)
        {
            await alice.SendAsync($"bob-{run}", i.ToString());
        }

        // Pushes of 1 and 2 never reached bob's edge; 3 did, showed the gap, and the edge fetched 1 and 2 first.
        await bob.WaitForMessagesAsync(3);
        Assert.Equal(0, PushDropFilter.Remaining($"bob-{run}"));
        Assert.Equal([1L, 2L, 3L], bob.Messages.Select(m => m.Seq()));
        Assert.Equal(["1", "2", "3"], bob.Messages.Select(m => m.GetProperty("data").GetRawText()));
    }

    /// <summary>
    /// The edge's fetch of a gap is a call the Orleans client never fails if its gateway silo stops mid-call (only its
    /// 30 s response timeout would): the edge asks again after its call timeout instead of holding the client's messages.
    /// </summary>
    [Fact]
    public async Task Push_LostAndTheGapFetchNeverAnswers_EdgeAsksAgainAndRepairsInOrder()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bob-{run}"));
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"alice-{run}"));
        await bob.WaitForFrameAsync("welcome");

        using var stall = CallStallFilter.Arm(nameof(IClientSessionGrain.ReadSinceAsync), $"bob-{run}", count: 1);
        PushDropFilter.DropNext($"bob-{run}", 2);
        for (var i = 1; i <= 3; i++)
        {
            await alice.SendAsync($"bob-{run}", i.ToString());
        }

        await bob.WaitForMessagesAsync(3, GatewayCluster.EdgeCallTimeout * 3);
        Assert.Equal(1, CallStallFilter.Stalled(nameof(IClientSessionGrain.ReadSinceAsync), $"bob-{run}"));
        Assert.Equal([1L, 2L, 3L], bob.Messages.Select(m => m.Seq()));
        Assert.False(bob.Closed);
    }

    [Fact]
    public async Task Connect_AttachNeverAnswers_EdgeAsksAgainAndWelcomesWithTheReplay()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"alice-{run}"));
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"carol-{{run}}","data":{{i}}}""")).Type());
        }

        using var stall = CallStallFilter.Arm(nameof(IClientSessionGrain.AttachAsync), $"carol-{run}", count: 1);
        await using var carol = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"carol-{run}"), lastSeq: 0);

        var welcome = await carol.WaitForFrameAsync("welcome", GatewayCluster.EdgeCallTimeout * 3);
        Assert.True(welcome.GetProperty("recovered").GetBoolean());
        await carol.WaitForMessagesAsync(3);
        Assert.Equal(1, CallStallFilter.Stalled(nameof(IClientSessionGrain.AttachAsync), $"carol-{run}"));
        Assert.Equal([1L, 2L, 3L], carol.Messages.Select(m => m.Seq()));
        Assert.Equal(1, (await cluster.Backend.GetGrain<IClientGrain>($"carol-{run}").GetPresenceAsync()).Sessions);
    }

    [Fact]
    public async Task Close_DetachNeverAnswers_EdgeAsksAgainAndTheSessionIsGone()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var grain = cluster.Backend.GetGrain<IClientGrain>($"dave-{run}");
        var dave = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"dave-{run}"));
        await dave.WaitForFrameAsync("welcome");
        Assert.Equal(1, (await grain.GetPresenceAsync()).Sessions);

        using var stall = CallStallFilter.Arm(nameof(IClientSessionGrain.DetachAsync), $"dave-{run}", count: 1);
        await dave.DisposeAsync();

        // A session never detached would count against dave's session cap for as long as the edge lives.
        await GatewayClusterExtensions.EventuallyAsync(
            async () => (await grain.GetPresenceAsync()).Sessions == 0, GatewayCluster.EdgeCallTimeout * 3, "the session to be detached");
        Assert.Equal(1, CallStallFilter.Stalled(nameof(IClientSessionGrain.DetachAsync), $"dave-{run}"));
    }

    [Fact]
    public async Task Push_LastBeforeQuietPeriodLost_RepairedByTheSiloSweep()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"quiet-{run}"));
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"alice-{run}"));
        await bob.WaitForFrameAsync("welcome");

        PushDropFilter.DropNext($"quiet-{run}", 1);
        Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"quiet-{{run}}","data":"only"}""")).Type());
        // The silo's per-edge batcher may send the push just after the ok: wait until the filter has dropped it.
        await GatewayClusterExtensions.EventuallyAsync(
            () => Task.FromResult(PushDropFilter.Remaining($"quiet-{run}") == 0), TimeSpan.FromSeconds(5), "the push to be dropped");

        // Nothing follows that could show the gap: the sweep's repush (interval 2 s in this cluster) brings it.
        await bob.WaitForMessagesAsync(1, GatewayCluster.LeaseTtl * 4);
        Assert.Equal([1L], bob.Messages.Select(m => m.Seq()));
        Assert.Equal("\"only\"", bob.Messages[0].GetProperty("data").GetRawText());
    }
}
