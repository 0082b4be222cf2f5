using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.ExactlyOnce;

/// <summary>Issue #13: keyed <c>send</c>/<c>pub</c> are taken at most once per (sender, key) and answered with their seq/off.</summary>
[Collection(GatewayCollection.Name)]
public sealed class IdempotentSendTests(GatewayCluster cluster)
{
    [Fact]
    public async Task SendWithKey_RepeatedFromAnotherSessionOnAnotherEdge_OkDupSameSeqDeliveredOnce()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"));
        var welcome = (await bob.WaitForFrameAsync("welcome")).Seq();
        await using var aliceTab1 = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        await using var aliceTab2 = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"alice-{run}"));

        var first = await aliceTab1.RequestAsync($$$"""{"t":"send","id":"$id","to":"bob-{{{run}}}","key":"k-1","data":{"n":1}}""");
        var repeat = await aliceTab2.RequestAsync($$$"""{"t":"send","id":"$id","to":"bob-{{{run}}}","key":"k-1","data":{"n":1}}""");
        var next = await aliceTab2.RequestAsync($$$"""{"t":"send","id":"$id","to":"bob-{{{run}}}","key":"k-2","data":{"n":2}}""");

        Assert.Equal("ok", first.Type());
        Assert.Equal(welcome + 1, first.Seq());
        Assert.False(first.TryGetProperty("dup", out _));
        Assert.Equal("ok", repeat.Type());
        Assert.Equal(first.Seq(), repeat.Seq());
        Assert.True(repeat.GetProperty("dup").GetBoolean());
        Assert.Equal(welcome + 2, next.Seq());

        await bob.WaitForMessagesAsync(2);
        Assert.Equal([1, 2], bob.Messages.Select(m => m.GetProperty("data").GetProperty("n").GetInt32()));
        Assert.Equal([welcome + 1, welcome + 2], bob.Messages.Select(m => m.Seq()));
    }

    [Fact]
    public async Task PubWithKey_Repeated_OkDupSameOffPublishedOnce()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var channel = $"room:{run}";
        await using var subscriber = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"s-{run}"));
        await using var publisher = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"p-{run}"));
        Assert.Equal("ok", (await subscriber.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());

        var first = await publisher.RequestAsync($$"""{"t":"pub","id":"$id","ch":"{{channel}}","key":"p-1","data":"one"}""");
        var repeat = await publisher.RequestAsync($$"""{"t":"pub","id":"$id","ch":"{{channel}}","key":"p-1","data":"one"}""");
        Assert.Equal("ok", (await publisher.RequestAsync($$"""{"t":"pub","id":"$id","ch":"{{channel}}","data":"two"}""")).Type());

        Assert.Equal(1, first.GetProperty("off").GetInt64());
        Assert.Equal(1, repeat.GetProperty("off").GetInt64());
        Assert.True(repeat.GetProperty("dup").GetBoolean());
        await subscriber.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") >= 2, what: "two publications");
        Assert.Equal(["\"one\"", "\"two\""], subscriber.Frames.Where(f => f.Type() == "pub").Select(f => f.GetProperty("data").GetRawText()));
    }

    [Fact]
    public async Task SendWithKey_ReusedWithOtherData_ErrBadRequestAndNothingDelivered()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        var bob = cluster.Backend.GetGrain<IClientGrain>($"bob-{run}");

        Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","key":"k","data":"first"}""")).Type());
        var reused = await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","key":"k","data":"second"}""");

        Assert.Equal("err", reused.Type());
        Assert.Equal("bad_request", reused.GetProperty("code").GetString());
        Assert.Equal(["\"first\""], (await bob.ReadMailboxAsync(0)).Replay.Select(m => Encoding.UTF8.GetString(m.Data)));
        await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => bob.SendOnceAsync($"alice-{run}", "\"third\""u8.ToArray(), "k"));
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("42")]
    [InlineData("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"")] // 65 characters
    public async Task KeyedFrames_InvalidKey_ErrBadRequestAndTheConnectionStays(string key)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        foreach (var frame in new[]
        {
            $$"""{"t":"send","id":"$id","to":"bob-{{run}}","key":{{key}},"data":1}""",
            $$"""{"t":"pub","id":"$id","ch":"room:{{run}}","key":{{key}},"data":1}""",
            $$"""{"t":"up","id":"$id","topic":"orders","key":{{key}},"data":1}""",
        })
        {
            var reply = await alice.RequestAsync(frame);
            Assert.Equal("err", reply.Type());
            Assert.Equal("bad_request", reply.GetProperty("code").GetString());
        }

        Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":1}""")).Type());
        Assert.False(alice.Closed);
        Assert.Equal(1, (await cluster.Backend.GetGrain<IClientGrain>($"bob-{run}").GetPresenceAsync()).Seq); // only the valid send
    }

    /// <summary>
    /// The answer is lost (the grain call outlives the edge's call timeout): the retry with the same key is told
    /// <c>dup</c>. Both ways an edge sends: one-way with the answer in the silo's push (the default), and a call with a
    /// response (<c>Gateway:Edge:SendAcksInPush=false</c>).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SendWithKey_AnswerLostPastTheCallTimeout_RetryDeliveredExactlyOnce(bool acksInPush)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var bobId = $"bob-{run}";
        var aliceEdge = acksInPush
            ? cluster.Edges[0]
            : await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Edge:SendAcksInPush"] = "false" });
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256(bobId));
        var welcome = (await bob.WaitForFrameAsync("welcome")).Seq();
        await using var alice = await TestClient.ConnectAsync(aliceEdge, cluster.Tokens.Hs256($"alice-{run}"));
        const string send = """{"t":"send","id":"$id","to":"BOB","key":"lost-1","data":"once"}""";

        var method = acksInPush ? nameof(IClientSessionGrain.SendOneWayAsync) : nameof(IClientSessionGrain.SendOnceAsync);
        using (CallStallFilter.Arm(method, bobId, count: 1, at: CallStallFilter.At.Grain))
        {
            var lost = await alice.RequestAsync(send.Replace("BOB", bobId), GatewayCluster.EdgeCallTimeout * 3);
            Assert.Equal("unavailable", lost.GetProperty("code").GetString());
            Assert.Equal(1, CallStallFilter.Stalled(method, bobId));
        } // released: the stalled call now runs, after its caller gave up

        var retry = await alice.RequestAsync(send.Replace("BOB", bobId));
        Assert.Equal("ok", retry.Type());
        Assert.Equal(welcome + 1, retry.Seq());
        Assert.True(retry.GetProperty("dup").GetBoolean());

        Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"{{bobId}}","data":"after"}""")).Type());
        await bob.WaitForMessagesAsync(2);
        Assert.Equal(["\"once\"", "\"after\""], bob.Messages.Select(m => m.GetProperty("data").GetRawText()));
    }

    /// <summary>A graceful silo stop migrates the client grain with its keys: a repeat on the new silo is still a <c>dup</c>.</summary>
    [Fact]
    public async Task SendWithKey_RepeatedAfterTheGrainMigratedOnASiloStop_RecognisedAsDup()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var bobId = $"bob-{run}";
        var third = await cluster.StartSiloAsync();
        await using var owned = cluster.Owned(third);
        await WaitForActiveSilosAsync(cluster, cluster.Silos.Count);
        await WaitForPlacementOnAsync(cluster, third); // a hint to a silo placement does not know yet is ignored
        var bob = cluster.Backend.GetGrain<IClientGrain>(bobId);
        RequestContext.Set(IPlacementDirector.PlacementHintKey, third.Host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress);
        try
        {
            await bob.GetPresenceAsync();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        Assert.Contains((await cluster.Backend.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
            .Where(s => s.SiloAddress.Endpoint.Port == third.SiloPort), s => s.GrainId.Key.ToString() == bobId);
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        var first = await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"{{bobId}}","key":"m-1","data":"once"}""");
        Assert.Equal(1, first.Seq());

        await cluster.StopSiloAsync(third);

        var repeat = await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"{{bobId}}","key":"m-1","data":"once"}""");
        Assert.Equal("ok", repeat.Type());
        Assert.Equal(1, repeat.Seq());
        Assert.True(repeat.GetProperty("dup").GetBoolean());
        Assert.Single((await bob.ReadMailboxAsync(0)).Replay);
    }
}
