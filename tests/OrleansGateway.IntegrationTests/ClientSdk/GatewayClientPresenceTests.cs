using OrleansGateway.Client;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.ClientSdk;

/// <summary>The .NET SDK's channel presence against real edges and silos.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GatewayClientPresenceTests(GatewayCluster cluster)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    private Task<GatewayClient> ConnectAsync(string sub, Uri edge) => GatewayClient.ConnectAsync(new GatewayClientOptions
    {
        Urls = [new UriBuilder(edge) { Path = "/ws" }.Uri],
        GetTokenAsync = _ => ValueTask.FromResult(cluster.Tokens.Hs256(sub, channels: [$"sdkpres:{_run}"])),
    }).WaitAsync(Timeout);

    [Fact]
    public async Task SubscribeWithPresence_OtherClientJoinsOnOtherEdge_JoinEventAndMemberPage()
    {
        var room = $"sdkpres:{_run}";
        await using var bob = await ConnectAsync($"bob-{_run}", cluster.Edges[0]);
        await using var alice = await ConnectAsync($"alice-{_run}", cluster.Edges[1]);
        await using var watching = await bob.SubscribeWithPresenceAsync(room);
        var events = new List<PresenceEvent>();
        using var stop = new CancellationTokenSource(Timeout);
        var reading = Task.Run(async () =>
        {
            await foreach (var change in watching.PresenceEvents(stop.Token))
            {
                lock (events)
                {
                    events.Add(change);
                }

                // Both joins (bob's own too): edges report on their own timers, in either order.
                if (events.Count(e => e.Joined) == 2)
                {
                    return;
                }
            }
        });

        await using var joined = await alice.SubscribeAsync(room);
        await reading.WaitAsync(Timeout);
        var page = await bob.GetPresenceAsync(room);

        Assert.Contains(new PresenceEvent(room, $"alice-{_run}", Joined: true), events);
        Assert.Equal(2, page.Total);
        Assert.Equal([new ChannelMember($"alice-{_run}", 1), new ChannelMember($"bob-{_run}", 1)], page.Members);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task GetPresence_ChannelNotAllowed_ForbiddenAndClientStaysUsable()
    {
        await using var bob = await ConnectAsync($"bob-{_run}", cluster.Edges[0]);

        var refused = await Assert.ThrowsAsync<GatewayException>(() => bob.GetPresenceAsync("elsewhere"));

        Assert.Equal("forbidden", refused.Code);
        Assert.Equal(0, (await bob.GetPresenceAsync($"sdkpres:{_run}")).Total);
    }
}
