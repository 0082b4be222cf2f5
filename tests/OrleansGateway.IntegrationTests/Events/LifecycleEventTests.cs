using System.Text;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;
using static OrleansGateway.Grains.LifecycleEventKinds;

namespace OrleansGateway.IntegrationTests.Events;

/// <summary>Lifecycle events on the memory stream: real silos, a real edge, real WebSocket clients, a backend's stream subscription.</summary>
public sealed class LifecycleEventTests(EventsGatewayCluster cluster) : IClassFixture<EventsGatewayCluster>
{
    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    [Fact]
    public async Task Events_ConnectSubscribeUnsubscribeClose_BackendSeesEachInOrder()
    {
        var alice = Unique("alice");
        var channel = Unique("room:events");
        await using var events = await LifecycleEventRecorder.StartAsync(cluster.Backend);
        await using (var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256(alice)))
        {
            await client.WaitForFrameAsync("welcome");
            Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
            Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"unsub","id":"$id","ch":"{{channel}}"}""")).Type());
            await client.CloseAsync();
        }

        var seen = await events.WaitForAsync(alice, 4);

        Assert.Equal([Connected, Subscribed, Unsubscribed, Disconnected], seen.Select(e => e.Kind));
        var connected = seen[0];
        Assert.Equal(cluster.EdgeId(cluster.Edges[0]), connected.EdgeId);
        Assert.All(seen, e => Assert.Equal((connected.EdgeId, connected.SessionId), (e.EdgeId, e.SessionId)));
        Assert.False(connected.Resumed);
        Assert.True(connected.Recovered);
        Assert.Equal(channel, seen[1].Channel);
        Assert.Equal(channel, seen[2].Channel);
        Assert.Equal("normal", seen[3].Reason);
        Assert.Equal(1000, seen[3].Code);
    }

    [Fact]
    public async Task Events_ResumeWithinThenBeyondRetention_ConnectedSaysResumedAndWhetherRecovered()
    {
        var bob = Unique("bob");
        var mailbox = cluster.Backend.GetGrain<IClientGrain>(bob);
        await using var events = await LifecycleEventRecorder.StartAsync(cluster.Backend);
        // Each session's disconnected is awaited before the next connect: a client reconnecting at once may attach before
        // its old session's detach arrives, and the grain then reports the overlap as it happened (docs/events.md).
        await ConnectAndCloseAsync(bob, lastSeq: null);
        await events.WaitForAsync(bob, 2);

        await mailbox.SendAsync("test", Encoding.UTF8.GetBytes("1"));
        await ConnectAndCloseAsync(bob, lastSeq: 0);
        await events.WaitForAsync(bob, 4);

        for (var i = 0; i < GatewayCluster.RetainedMessages + 5; i++)
        {
            await mailbox.SendAsync("test", Encoding.UTF8.GetBytes(i.ToString()));
        }

        await ConnectAndCloseAsync(bob, lastSeq: 1);

        var seen = await events.WaitForAsync(bob, 6);
        Assert.Equal([Connected, Disconnected, Connected, Disconnected, Connected, Disconnected], seen.Select(e => e.Kind));
        Assert.Equal((false, true), (seen[0].Resumed, seen[0].Recovered));
        Assert.Equal((true, true), (seen[2].Resumed, seen[2].Recovered));
        Assert.Equal((true, false), (seen[4].Resumed, seen[4].Recovered));
    }

    [Fact]
    public async Task Events_EdgeKilledWithSigkill_SiloReportsDisconnectedEdgeLost()
    {
        var carol = Unique("carol");
        await using var events = await LifecycleEventRecorder.StartAsync(cluster.Backend);
        using var doomed = await EdgeProcess.StartAsync(cluster);
        await using var client = await TestClient.ConnectAsync(doomed.Uri, cluster.Tokens.Hs256(carol));
        await client.WaitForFrameAsync("welcome");
        var connected = (await events.WaitForAsync(carol, 1))[0];

        doomed.Kill();

        // Nobody detaches the session: the silo drops it once the edge's lease lapsed (sweep or next call), and says so.
        var seen = await events.WaitForAsync(carol, 2, GatewayCluster.LeaseTtl * 4);
        Assert.Equal([Connected, Disconnected], seen.Select(e => e.Kind));
        Assert.Equal((connected.EdgeId, connected.SessionId), (seen[1].EdgeId, seen[1].SessionId));
        Assert.Equal(LifecycleEventReasons.EdgeLost, seen[1].Reason);
        Assert.Null(seen[1].Code);
    }

    [Fact]
    public async Task Events_SubscribedAndUnsubscribedOffOnTheEdge_NotProduced()
    {
        var dave = Unique("dave");
        var channel = Unique("room:events");
        await using var events = await LifecycleEventRecorder.StartAsync(cluster.Backend);
        // Left running: the fixture stops it with the others.
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?> { ["Gateway:Events:Kinds"] = "Connected, Disconnected" });
        await using (var client = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256(dave)))
        {
            await client.WaitForFrameAsync("welcome");
            Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
            Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"unsub","id":"$id","ch":"{{channel}}"}""")).Type());
            await client.CloseAsync();
        }

        // The client's events are in order: had the edge reported the sub or unsub, it would precede the disconnected.
        var seen = await events.WaitForAsync(dave, 2);
        Assert.Equal([Connected, Disconnected], seen.Select(e => e.Kind));
    }

    private async Task ConnectAndCloseAsync(string clientId, long? lastSeq)
    {
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256(clientId), lastSeq);
        await client.WaitForFrameAsync("welcome");
        await client.CloseAsync();
    }
}
