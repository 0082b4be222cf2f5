using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Placement;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Members;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.IntegrationTests.Restarts.RestartTestSupport;

namespace OrleansGateway.IntegrationTests.Channels;

/// <summary>Channel presence end to end: real edges (in-process and as processes) and real silos.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ChannelPresenceTests(GatewayCluster cluster)
{
    /// <summary>The silos' default (<c>Gateway:Presence:LeaveDebounce</c>), plus a check interval and slack.</summary>
    private static readonly TimeSpan LeaveWithin = PresenceOptions.DefaultLeaveDebounce + TimeSpan.FromSeconds(10);

    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    private string Room => $"pres:{_run}";

    private Task<TestClient> ConnectAsync(Uri edge, string client) =>
        TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"{client}-{_run}", channels: [$"pres:{_run}*"]));

    private string Id(string client) => $"{client}-{_run}";

    private static async Task SubAsync(TestClient client, string channel, bool presence = false) =>
        Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}","presence":{{(presence ? "true" : "false")}}}""")).Type());

    private static List<string> Events(TestClient client, string type, string channel) =>
        client.Frames.Where(f => f.Type() == type && f.GetProperty("ch").GetString() == channel).Select(f => f.GetProperty("client").GetString()!).ToList();

    private static async Task<JsonElement> PresenceAsync(TestClient client, string channel, string? after = null)
    {
        var reply = await client.RequestAsync(after is null
            ? $$"""{"t":"presence","id":"$id","ch":"{{channel}}"}"""
            : $$"""{"t":"presence","id":"$id","ch":"{{channel}}","after":"{{after}}"}""");
        Assert.Equal("ok", reply.Type());
        return reply;
    }

    private static Dictionary<string, int> Members(JsonElement reply) =>
        reply.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("client").GetString()!, m => m.GetProperty("sessions").GetInt32());

    private Task WaitForMembersAsync(string channel, Func<ChannelMemberStats, bool> condition, string what, TimeSpan? timeout = null) =>
        GatewayClusterExtensions.EventuallyAsync(
            async () => condition(await cluster.Backend.GetGrain<IChannelGrain>(channel).GetMemberStatsAsync()), timeout ?? TimeSpan.FromSeconds(20), what);

    [Fact]
    public async Task Presence_TwoTabsOfOneClientOnTwoEdges_OneMemberOneJoinTwoSessions()
    {
        await using var bob = await ConnectAsync(cluster.Edges[0], "bob");
        await SubAsync(bob, Room, presence: true);
        await using var tab1 = await ConnectAsync(cluster.Edges[0], "alice");
        await using var tab2 = await ConnectAsync(cluster.Edges[1], "alice");
        await SubAsync(tab1, Room);
        await SubAsync(tab2, Room);

        await WaitForMembersAsync(Room, s => s is { Clients: 2, Sessions: 3 }, "alice (2 sessions) and bob");
        var reply = await PresenceAsync(bob, Room);

        Assert.Equal(2, reply.GetProperty("total").GetInt32());
        Assert.Equal(new Dictionary<string, int> { [Id("alice")] = 2, [Id("bob")] = 1 }, Members(reply));
        await bob.WaitUntilAsync(_ => Events(bob, "join", Room).Contains(Id("alice")));
        Assert.Single(Events(bob, "join", Room), Id("alice"));
    }

    [Fact]
    public async Task Leave_OneOfTwoTabsCloses_NoLeave_LastTabCloses_LeaveAfterDebounce()
    {
        await using var bob = await ConnectAsync(cluster.Edges[1], "bob");
        await SubAsync(bob, Room, presence: true);
        var tab1 = await ConnectAsync(cluster.Edges[0], "alice");
        var tab2 = await ConnectAsync(cluster.Edges[1], "alice");
        await SubAsync(tab1, Room);
        await SubAsync(tab2, Room);
        await bob.WaitUntilAsync(_ => Events(bob, "join", Room).Contains(Id("alice")));

        await tab1.DisposeAsync();
        await WaitForMembersAsync(Room, s => s.Sessions == 2, "alice's first tab to be gone");
        var lastClosed = Stopwatch.StartNew();
        await tab2.DisposeAsync();
        await bob.WaitUntilAsync(_ => Events(bob, "leave", Room).Contains(Id("alice")), LeaveWithin);

        // The leave came once, and not before the debounce: the first tab's close never produced one.
        Assert.Single(Events(bob, "leave", Room), Id("alice"));
        Assert.True(lastClosed.Elapsed >= PresenceOptions.DefaultLeaveDebounce, $"leave after {lastClosed.Elapsed}");
        Assert.Equal(new Dictionary<string, int> { [Id("bob")] = 1 }, Members(await PresenceAsync(bob, Room)));
    }

    [Fact]
    public async Task Presence_BadInput_BadRequestAndConnectionStays()
    {
        await using var bob = await ConnectAsync(cluster.Edges[0], "bob");

        var noChannel = await bob.RequestAsync("""{"t":"presence","id":"$id"}""");
        var notAllowed = await bob.RequestAsync("""{"t":"presence","id":"$id","ch":"elsewhere"}""");
        var badAfter = await bob.RequestAsync($$"""{"t":"presence","id":"$id","ch":"{{Room}}","after":"not valid!"}""");
        var badFlag = await bob.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{Room}}","presence":"yes"}""");

        Assert.Equal(("err", "bad_request"), (noChannel.Type(), noChannel.GetProperty("code").GetString()));
        Assert.Equal(("err", "forbidden"), (notAllowed.Type(), notAllowed.GetProperty("code").GetString()));
        Assert.Equal(("err", "bad_request"), (badAfter.Type(), badAfter.GetProperty("code").GetString()));
        Assert.Equal(("err", "bad_request"), (badFlag.Type(), badFlag.GetProperty("code").GetString()));
        Assert.Equal("pong", (await bob.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
        Assert.Empty(Members(await PresenceAsync(bob, Room)));
    }

    [Fact]
    public async Task EdgeSigkill_ItsMembersLeaveWithinTheLeaseTtl()
    {
        using var doomed = await EdgeProcess.StartAsync(cluster);
        await using var bob = await ConnectAsync(cluster.Edges[0], "bob");
        await SubAsync(bob, Room, presence: true);
        await using var alice = await ConnectAsync(doomed.Uri, "alice");
        await SubAsync(alice, Room);
        await bob.WaitUntilAsync(_ => Events(bob, "join", Room).Contains(Id("alice")));

        var killedAt = Stopwatch.StartNew();
        doomed.Kill();
        await bob.WaitUntilAsync(_ => Events(bob, "leave", Room).Contains(Id("alice")), TimeSpan.FromSeconds(30));

        // Lease TTL after the last renewal, plus the silo's lease cache and one presence check (1 s): no debounce,
        // as its clients have had the lease TTL to reconnect elsewhere.
        Assert.True(killedAt.Elapsed < GatewayCluster.LeaseTtl * 2 + PresenceOptions.DefaultCheckInterval, $"left after {killedAt.Elapsed}");
        Assert.Equal(new Dictionary<string, int> { [Id("bob")] = 1 }, Members(await PresenceAsync(bob, Room)));
    }

    [Fact]
    public async Task Drain_MemberReconnectsToAnotherEdge_OthersSeeNoLeaveAndNoSecondJoin()
    {
        var draining = await cluster.StartEdgeAsync(DrainSettings());
        await using var bob = await ConnectAsync(cluster.Edges[0], "bob");
        await SubAsync(bob, Room, presence: true);
        await using var carol = await ConnectAsync(cluster.Edges[0], "carol");
        await SubAsync(carol, Room);
        await using var alice = await ConnectAsync(draining, "alice");
        await SubAsync(alice, Room);
        await bob.WaitUntilAsync(_ => Events(bob, "join", Room).Contains(Id("alice")) && Events(bob, "join", Room).Contains(Id("carol")));

        await DrainAsync(draining);
        var bye = await alice.WaitForFrameAsync("bye");
        Assert.Equal("draining", bye.GetProperty("code").GetString());
        await using var moved = await ConnectAsync(cluster.Edges[1], "alice");
        await SubAsync(moved, Room);

        // Carol really leaves after alice moved: her leave is due after any leave of alice's would have been, and joins
        // and leaves reach bob's edge in the grain's order, so once bob has carol's leave he would have had alice's.
        await carol.DisposeAsync();
        await bob.WaitUntilAsync(_ => Events(bob, "leave", Room).Contains(Id("carol")), LeaveWithin);

        Assert.DoesNotContain(Id("alice"), Events(bob, "leave", Room));
        Assert.Single(Events(bob, "join", Room), Id("alice"));
        Assert.Equal(1, Members(await PresenceAsync(bob, Room))[Id("alice")]);
    }

    [Fact]
    public async Task StopSilo_HostingTheChannel_MembersMoveWithItAndNobodyLeaves()
    {
        var third = await cluster.StartSiloAsync();
        await using var owned = cluster.Owned(third);
        await WaitForActiveSilosAsync(cluster, cluster.Silos.Count);
        await WaitForPlacementOnAsync(cluster, third);
        var thirdAddress = third.Host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        RequestContext.Set(IPlacementDirector.PlacementHintKey, thirdAddress);
        try
        {
            await cluster.Backend.GetGrain<IChannelGrain>(Room).GetEdgeCountAsync();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        await using var bob = await ConnectAsync(cluster.Edges[0], "bob");
        await SubAsync(bob, Room, presence: true);
        await using var alice = await ConnectAsync(cluster.Edges[1], "alice");
        await SubAsync(alice, Room);
        await WaitForMembersAsync(Room, s => s is { Clients: 2, Sessions: 2 }, "alice and bob");
        var onThird = (await cluster.Backend.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
            .Any(s => s.GrainType.Contains("ChannelGrain", StringComparison.Ordinal) && s.SiloAddress.Endpoint.Port == third.SiloPort
                && s.GrainId.Key.ToString() == Room);
        Assert.True(onThird, "the channel grain is on the silo about to stop");

        await cluster.StopSiloAsync(third);

        // Still both members right after the stop (a fresh activation would have none), and joins keep flowing from
        // the moved grain to bob's edge.
        Assert.Equal(new ChannelMemberStats(2, 2), await cluster.Backend.GetGrain<IChannelGrain>(Room).GetMemberStatsAsync());
        await using var dave = await ConnectAsync(cluster.Edges[1], "dave");
        await SubAsync(dave, Room);
        await bob.WaitUntilAsync(_ => Events(bob, "join", Room).Contains(Id("dave")));
        Assert.Empty(Events(bob, "leave", Room));
    }
}
