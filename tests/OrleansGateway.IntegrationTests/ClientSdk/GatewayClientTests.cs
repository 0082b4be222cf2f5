using System.Text.Json;
using OrleansGateway.Client;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;
using OrleansGateway.IntegrationTests.Restarts;

namespace OrleansGateway.IntegrationTests.ClientSdk;

/// <summary>The .NET SDK against real edges: it must make drains, crashes, dead connections and expiring tokens invisible.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GatewayClientTests(GatewayCluster cluster)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Uri Ws(Uri edge) => new UriBuilder(edge) { Path = "/ws" }.Uri;

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private Task<GatewayClient> ConnectAsync(string sub, IReadOnlyList<Uri> urls, Action<GatewayClientOptions>? configure = null, TimeSpan? lifetime = null, Action? onToken = null, string[]? channels = null)
    {
        var options = new GatewayClientOptions
        {
            Urls = urls,
            GetTokenAsync = _ =>
            {
                onToken?.Invoke();
                return ValueTask.FromResult(cluster.Tokens.Hs256(sub, lifetime: lifetime, channels: channels));
            },
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        };
        configure?.Invoke(options);
        return GatewayClient.ConnectAsync(options).WaitAsync(Timeout);
    }

    /// <summary>Reads direct messages in the background, as an app would.</summary>
    private static (List<DirectMessage> Received, Task Reading) Collect(GatewayClient client)
    {
        var received = new List<DirectMessage>();
        var reading = Task.Run(async () =>
        {
            await foreach (var message in client.Messages)
            {
                lock (received)
                {
                    received.Add(message);
                }
            }
        });
        return (received, reading);
    }

    private static Task UntilAsync(Func<bool> condition, string what) =>
        GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(condition()), Timeout, what);

    private static List<int> Numbers(List<DirectMessage> received)
    {
        lock (received)
        {
            return received.Select(m => m.Data.GetProperty("n").GetInt32()).ToList();
        }
    }

    [Fact]
    public async Task Sdk_SendAcrossEdges_RecipientGetsEachMessageOnceInOrder()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await ConnectAsync($"alice-{run}", [Ws(cluster.Edges[0])]);
        await using var bob = await ConnectAsync($"bob-{run}", [Ws(cluster.Edges[1])]);
        var (received, _) = Collect(bob);
        for (var i = 0; i < 50; i++)
        {
            await alice.SendAsync($"bob-{run}", Json($$"""{"n":{{i}}}"""));
        }

        await UntilAsync(() => Numbers(received).Count == 50, "50 messages");
        Assert.Equal(Enumerable.Range(0, 50), Numbers(received));
        lock (received)
        {
            Assert.All(received, m => Assert.Equal($"alice-{run}", m.From));
            Assert.Equal(received.Select(m => m.Seq).Order(), received.Select(m => m.Seq));
        }
    }

    [Fact]
    public async Task Sdk_ErrFromServer_ThrowsGatewayExceptionWithCode()
    {
        await using var client = await ConnectAsync($"err-{Guid.NewGuid():N}", [Ws(cluster.Edges[0])], channels: ["room:*"]);
        var invalid = await Assert.ThrowsAsync<GatewayException>(() => client.SendAsync("not valid!", Json("1")));
        Assert.Equal("bad_request", invalid.Code);
        var forbidden = await Assert.ThrowsAsync<GatewayException>(() => client.PublishAsync("secret", Json("1")));
        Assert.Equal("forbidden", forbidden.Code);
        await client.PublishAsync($"room:{Guid.NewGuid():N}", Json("1")); // the connection is still fine
    }

    [Fact]
    public async Task Sdk_EdgeKilled_ReconnectsElsewhereAndNothingAcknowledgedIsLost()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await EdgeProcess.StartAsync(cluster);
        await using var bob = await ConnectAsync($"bob-{run}", [Ws(doomed.Uri), Ws(cluster.Edges[1])]);
        var (received, _) = Collect(bob);
        await using var alice = await ConnectAsync($"alice-{run}", [Ws(cluster.Edges[0])]);
        for (var i = 0; i < 10; i++)
        {
            await alice.SendAsync($"bob-{run}", Json($$"""{"n":{{i}}}"""));
        }

        await UntilAsync(() => Numbers(received).Count == 10, "the first 10");
        doomed.Kill();
        for (var i = 10; i < 40; i++)
        {
            await alice.SendAsync($"bob-{run}", Json($$"""{"n":{{i}}}"""));
        }

        await UntilAsync(() => Numbers(received).Count == 40, "all 40 after the reconnect");
        Assert.Equal(Enumerable.Range(0, 40), Numbers(received));
        Assert.Equal(Ws(cluster.Edges[1]), bob.CurrentUrl);
        Assert.Equal(2, bob.Connections);
    }

    [Fact]
    public async Task Sdk_EdgeDrained_MovesToAnotherEdgeAndNothingIsLost()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var draining = await cluster.StartEdgeAsync(RestartTestSupport.DrainSettings());
        await using var bob = await ConnectAsync($"bob-{run}", [Ws(draining), Ws(cluster.Edges[0])]);
        var (received, _) = Collect(bob);
        var lost = 0;
        bob.RecoveryLost += _ => Interlocked.Increment(ref lost);
        await using var alice = await ConnectAsync($"alice-{run}", [Ws(cluster.Edges[1])]);

        // Fewer than the test cluster's retention (100 per mailbox): the resume must recover every one of them.
        const int total = 90;
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < total; i++)
            {
                await alice.SendAsync($"bob-{run}", Json($$"""{"n":{{i}}}"""));
                if (i >= 20)
                {
                    await Task.Delay(5); // paced, so sending spans the drain and the reconnect (traffic, not a sleep-for-sync)
                }
            }
        });

        await UntilAsync(() => Numbers(received).Count >= 20, "traffic before the drain");
        await RestartTestSupport.DrainAsync(draining);
        await sending.WaitAsync(Timeout);
        await UntilAsync(() => Numbers(received).Count == total, $"all {total}");
        await UntilAsync(() => bob.CurrentUrl == Ws(cluster.Edges[0]) && bob.State == ConnectionState.Connected, "bob on the other edge");
        Assert.Equal(0, lost);
        Assert.Equal(Enumerable.Range(0, total), Numbers(received));
        Assert.Equal(2, bob.Connections);
    }

    [Fact]
    public async Task Sdk_ChannelAcrossEdgeCrash_ResubscribesWithSinceNoGapNoDuplicate()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var channel = $"room:{run}";
        using var doomed = await EdgeProcess.StartAsync(cluster);
        await using var client = await ConnectAsync($"sub-{run}", [Ws(doomed.Uri), Ws(cluster.Edges[0])]);
        await using var subscription = await client.SubscribeAsync(channel);
        var offsets = new List<long>();
        var reading = Task.Run(async () =>
        {
            await foreach (var publication in subscription)
            {
                lock (offsets)
                {
                    offsets.Add(publication.Offset);
                }
            }
        });

        var grain = cluster.Backend.GetGrain<IChannelGrain>(channel);
        for (var i = 0; i < 5; i++)
        {
            await grain.PublishAsync("backend", "1"u8.ToArray());
        }

        await UntilAsync(() => { lock (offsets) { return offsets.Count == 5; } }, "5 publications");
        doomed.Kill();
        for (var i = 0; i < 15; i++)
        {
            await grain.PublishAsync("backend", "1"u8.ToArray()); // published while the client is away
        }

        await UntilAsync(() => { lock (offsets) { return offsets.Count == 20; } }, "20 publications after re-subscribing");
        lock (offsets)
        {
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), offsets);
        }
    }

    [Fact]
    public async Task Sdk_ShortLivedTokens_RefreshedInBandWithoutReconnecting()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var tokens = 0;
        await using var client = await ConnectAsync($"short-{run}", [Ws(cluster.Edges[0])],
            o => o.TokenRefreshMargin = TimeSpan.FromSeconds(3),
            lifetime: TimeSpan.FromSeconds(4),
            onToken: () => Interlocked.Increment(ref tokens));

        // Each 4 s token is replaced 3 s before it expires; three tokens mean the session outlived two of them.
        await UntilAsync(() => Volatile.Read(ref tokens) >= 3, "two in-band refreshes");
        await client.SendAsync($"short-{run}", Json("""{"n":1}""")); // still usable
        Assert.Equal(1, client.Connections);
    }

    [Fact]
    public async Task Sdk_WhileDisconnected_QueuesBoundedThenDeliversOnReconnect()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var proxy = new TcpProxy(cluster.Edges[0]);
        await using var bob = await ConnectAsync($"bob-{run}", [Ws(cluster.Edges[1])]);
        var (received, _) = Collect(bob);
        await using var alice = await ConnectAsync($"alice-{run}", [proxy.Uri], o => o.MaxQueuedRequests = 2);

        proxy.Pause(); // the edge is gone: alice keeps trying to reconnect
        await UntilAsync(() => alice.State == ConnectionState.Reconnecting, "alice to notice");
        var first = alice.SendAsync($"bob-{run}", Json("""{"n":1}"""));
        var second = alice.SendAsync($"bob-{run}", Json("""{"n":2}"""));
        var full = await Assert.ThrowsAsync<GatewayException>(() => alice.SendAsync($"bob-{run}", Json("""{"n":3}""")));
        Assert.Equal("queue_full", full.Code);

        proxy.Resume();
        await Task.WhenAll(first, second).WaitAsync(Timeout);
        await UntilAsync(() => Numbers(received).Count == 2, "the two queued messages");
        Assert.Equal([1, 2], Numbers(received));
    }

    [Fact]
    public async Task Sdk_SilentlyDeadConnection_HeartbeatDetectsItAndReconnects()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var proxy = new TcpProxy(cluster.Edges[0]);
        await using var client = await ConnectAsync($"hb-{run}", [proxy.Uri, Ws(cluster.Edges[1])], o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
            o.HeartbeatTimeout = TimeSpan.FromMilliseconds(500);
        });
        Assert.Equal(proxy.Uri, client.CurrentUrl);

        proxy.Freeze(); // nothing closes; nothing arrives
        await UntilAsync(() => client.CurrentUrl == Ws(cluster.Edges[1]) && client.State == ConnectionState.Connected, "the move to the other edge");
        Assert.Equal(2, client.Connections);
        await client.SendAsync($"hb-{run}", Json("""{"n":1}"""));
    }
}
