using System.Text.Json;
using Orleans.Runtime;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Direct;

[Collection(GatewayCollection.Name)]
public sealed class DirectMessageTests(GatewayCluster cluster)
{
    [Fact]
    public async Task Send_AcrossEdgesAndSilos_EveryMessageOnceInOrderWithContiguousSeq()
    {
        const int pairs = 8;
        const int perPair = 40;
        var run = Guid.NewGuid().ToString("N")[..8];
        var senders = new List<TestClient>();
        var receivers = new List<TestClient>();
        for (var p = 0; p < pairs; p++)
        {
            senders.Add(await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"a{p}-{run}")));
            receivers.Add(await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"b{p}-{run}")));
        }

        var welcomeSeq = new long[pairs];
        for (var p = 0; p < pairs; p++)
        {
            welcomeSeq[p] = (await receivers[p].WaitForFrameAsync("welcome")).Seq();
        }

        var ids = new List<string>[pairs];
        for (var p = 0; p < pairs; p++)
        {
            ids[p] = [];
            for (var i = 0; i < perPair; i++)
            {
                ids[p].Add(await senders[p].SendAsync($"b{p}-{run}", $$"""{"n":{{i}},"pad":"{{new string('x', i)}}"}"""));
            }
        }

        for (var p = 0; p < pairs; p++)
        {
            foreach (var id in ids[p])
            {
                Assert.Equal("ok", (await senders[p].WaitForReplyAsync(id)).Type());
            }

            await receivers[p].WaitForMessagesAsync(perPair);
            var messages = receivers[p].Messages;
            Assert.Equal(perPair, messages.Count);
            for (var i = 0; i < perPair; i++)
            {
                Assert.Equal(welcomeSeq[p] + i + 1, messages[i].Seq());
                Assert.Equal($"a{p}-{run}", messages[i].GetProperty("from").GetString());
                Assert.Equal(i, messages[i].GetProperty("data").GetProperty("n").GetInt32());
            }
        }

        // The grains really are spread over both silos, not piled on one.
        var management = cluster.Backend.GetGrain<IManagementGrain>(0);
        var stats = await management.GetSimpleGrainStatistics();
        var silosWithClientGrains = stats.Where(s => s.GrainType.Contains("ClientGrain", StringComparison.Ordinal) && s.ActivationCount > 0)
            .Select(s => s.SiloAddress).Distinct().Count();
        Assert.Equal(2, silosWithClientGrains);

        foreach (var c in senders.Concat(receivers))
        {
            await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Send_ToOfflineClient_WaitsInRetentionAndArrivesOnConnect()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal("ok", (await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":{{i}}}""")).Type());
        }

        await using var bob = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"), lastSeq: 0);
        var welcome = await bob.WaitForFrameAsync("welcome");
        Assert.True(welcome.GetProperty("recovered").GetBoolean());
        Assert.Equal(3, welcome.Seq());
        await bob.WaitForMessagesAsync(3);
        Assert.Equal([1, 2, 3], bob.Messages.Select(m => m.GetProperty("data").GetInt32()));
    }

    [Fact]
    public async Task Send_TwoSessionsOfOneClient_EachSessionGetsEveryMessage()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"alice-{run}"));
        await using var tab1 = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bob-{run}"));
        await using var tab2 = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"bob-{run}"));
        await tab1.WaitForFrameAsync("welcome");
        await tab2.WaitForFrameAsync("welcome");
        for (var i = 0; i < 20; i++)
        {
            await alice.SendAsync($"bob-{run}", i.ToString());
        }

        await tab1.WaitForMessagesAsync(20);
        await tab2.WaitForMessagesAsync(20);
        Assert.Equal(tab1.Messages.Select(m => m.Seq()), tab2.Messages.Select(m => m.Seq()));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), tab1.Messages.Select(m => m.Seq()));
    }

    [Fact]
    public async Task Backend_SendAndPresence_ThroughGrainInterface()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var grain = cluster.Backend.GetGrain<IClientGrain>($"carol-{run}");
        Assert.Equal(new Presence(false, 0, 0), await grain.GetPresenceAsync());

        await using var carol = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"carol-{run}"));
        await carol.WaitForFrameAsync("welcome");
        Assert.Equal(new Presence(true, 1, 0), await grain.GetPresenceAsync());

        var seq = await grain.SendAsync("billing", JsonSerializer.SerializeToUtf8Bytes(new { invoice = 7 }));
        var message = await carol.WaitForFrameAsync("msg");
        Assert.Equal(seq, message.Seq());
        Assert.Equal("billing", message.GetProperty("from").GetString());
        Assert.Equal(7, message.GetProperty("data").GetProperty("invoice").GetInt32());

        Assert.Equal(1, await grain.DisconnectAsync("policy"));
        var bye = await carol.WaitForFrameAsync("bye");
        Assert.Equal("policy", bye.GetProperty("code").GetString());
        await carol.WaitClosedAsync();
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, carol.CloseStatus);
    }

    /// <summary>
    /// Backends built against the previous release call the client grain under its original wire alias
    /// (<c>ogw.IClientGrain</c>, now <see cref="IClientSessionGrain"/>): send, presence and disconnect keep working there
    /// (docs/operations.md, "Wire compatibility").
    /// </summary>
    [Fact]
    public async Task PreviousReleaseBackend_SendPresenceDisconnectUnderTheOriginalAlias_StillServed()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var grain = cluster.Backend.GetGrain<IClientSessionGrain>($"erin-{run}");
        await using var erin = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"erin-{run}"));
        await erin.WaitForFrameAsync("welcome");

        var seq = await grain.SendAsync("billing", JsonSerializer.SerializeToUtf8Bytes(new { invoice = 8 }));
        Assert.Equal(seq, (await erin.WaitForFrameAsync("msg")).Seq());
        Assert.Equal(new Presence(true, 1, seq), await grain.GetPresenceAsync());

        Assert.Equal(1, await grain.DisconnectAsync("policy"));
        Assert.Equal("policy", (await erin.WaitForFrameAsync("bye")).GetProperty("code").GetString());
        await erin.WaitClosedAsync();
    }

    /// <summary>
    /// A send whose grain does not answer (a silo stopping mid-call lost the answer, or the grain is stuck) is answered
    /// <c>err unavailable</c> after the edge's call timeout (its Orleans response timeout, 30 s by default), and the
    /// session's later frames, handled one at a time, are not held behind it. The request was taken, though: once the
    /// grain resumes the message is delivered (docs/protocol.md: a retry could deliver it twice). Both ways an edge
    /// sends: one-way with the answer in the silo's push (the default), and a call with a response
    /// (<c>Gateway:Edge:SendAcksInPush=false</c>, for rolling upgrades from silos that serve only that).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Send_GrainNeverAnswers_ErrUnavailableAfterCallTimeoutAndLaterSendsFlow(bool acksInPush)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var aliceEdge = acksInPush
            ? cluster.Edges[1]
            : await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Edge:SendAcksInPush"] = "false" });
        await using var bob = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bob-{run}"));
        await using var carol = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"carol-{run}"));
        await using var alice = await TestClient.ConnectAsync(aliceEdge, cluster.Tokens.Hs256($"alice-{run}"));
        await bob.WaitForFrameAsync("welcome");
        await carol.WaitForFrameAsync("welcome");

        var method = acksInPush ? nameof(IClientSessionGrain.SendOneWayAsync) : nameof(IClientSessionGrain.SendAsync);
        using (CallStallFilter.Arm(method, $"bob-{run}", count: 1, at: CallStallFilter.At.Grain))
        {
            var stalled = await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"bob-{{run}}","data":"stalled"}""", GatewayCluster.EdgeCallTimeout * 3);
            Assert.Equal("err", stalled.Type());
            Assert.Equal("unavailable", stalled.GetProperty("code").GetString());
            Assert.Equal(1, CallStallFilter.Stalled(method, $"bob-{run}"));

            var next = await alice.RequestAsync($$"""{"t":"send","id":"$id","to":"carol-{{run}}","data":"next"}""");
            Assert.Equal("ok", next.Type());
            await carol.WaitForMessagesAsync(1);
            Assert.Equal("\"next\"", carol.Messages[0].GetProperty("data").GetRawText());
            Assert.Empty(bob.Messages);
        }

        await bob.WaitForMessagesAsync(1);
        Assert.Equal("\"stalled\"", bob.Messages[0].GetProperty("data").GetRawText());
    }
}
