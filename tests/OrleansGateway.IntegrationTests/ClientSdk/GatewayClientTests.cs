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

    /// <summary>The test edges' <c>Gateway:Auth:ClockSkew</c> (<see cref="GatewayCluster"/>).</summary>
    private static readonly TimeSpan EdgeClockSkew = TimeSpan.FromSeconds(1);

    /// <summary>The edge's expiry sweep period (<c>TokenExpirySweep.Interval</c>): the most a close lags the expiry.</summary>
    private static readonly TimeSpan TokenExpirySweepInterval = TimeSpan.FromSeconds(1);

    private static Uri Ws(Uri edge) => new UriBuilder(edge) { Path = "/ws" }.Uri;

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private Task<GatewayClient> ConnectAsync(string sub, IReadOnlyList<Uri> urls, Action<GatewayClientOptions>? configure = null, string[]? channels = null)
    {
        var options = new GatewayClientOptions
        {
            Urls = urls,
            GetTokenAsync = _ => ValueTask.FromResult(cluster.Tokens.Hs256(sub, channels: channels)),
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

    /// <summary>Reads a subscription's offsets in the background.</summary>
    private static List<long> CollectOffsets(ChannelSubscription subscription)
    {
        var offsets = new List<long>();
        _ = Task.Run(async () =>
        {
            await foreach (var publication in subscription)
            {
                lock (offsets)
                {
                    offsets.Add(publication.Offset);
                }
            }
        });
        return offsets;
    }

    private static List<long> Snapshot(List<long> offsets)
    {
        lock (offsets)
        {
            return [.. offsets];
        }
    }

    private static byte[] Utf8(string json) => System.Text.Encoding.UTF8.GetBytes(json);

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
        var expiries = new List<DateTime>();
        await using var client = await ConnectAsync($"short-{run}", [Ws(cluster.Edges[0])], o =>
        {
            o.TokenRefreshMargin = TimeSpan.FromSeconds(2);
            o.GetTokenAsync = _ =>
            {
                var token = cluster.Tokens.Hs256($"short-{run}", lifetime: TimeSpan.FromSeconds(3));
                lock (expiries)
                {
                    expiries.Add(new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).ValidTo);
                }

                return ValueTask.FromResult(token);
            };
        });

        // Each 3 s token is replaced 2 s before it expires. The edge closes a session once its token's exp plus the
        // clock skew has passed, at its next expiry sweep: past that moment for the second token, a session still
        // open on its first connection has outlived two tokens.
        var outlived = DateTime.MinValue;
        await UntilAsync(() =>
        {
            lock (expiries)
            {
                if (expiries.Count >= 3 && outlived == DateTime.MinValue)
                {
                    outlived = expiries[1] + EdgeClockSkew + TokenExpirySweepInterval;
                }
            }

            return outlived != DateTime.MinValue && DateTime.UtcNow > outlived;
        }, "the second token's expiry to pass");

        await client.SendAsync($"short-{run}", Json("""{"n":1}""")); // still usable
        Assert.Equal(ConnectionState.Connected, client.State);
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

    [Fact]
    public async Task Sdk_SubscribeWithSince_ReplaysNewerHistoryThenLive()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var channel = $"room:{run}";
        var grain = cluster.Backend.GetGrain<IChannelGrain>(channel);
        for (var i = 0; i < 5; i++)
        {
            await grain.PublishAsync("backend", "1"u8.ToArray());
        }

        await using var client = await ConnectAsync($"since-{run}", [Ws(cluster.Edges[0])]);
        var lost = new List<RecoveryLost>();
        client.RecoveryLost += l => { lock (lost) { lost.Add(l); } };
        await using var subscription = await client.SubscribeAsync(channel, since: 2).WaitAsync(Timeout);
        var offsets = CollectOffsets(subscription);
        await grain.PublishAsync("backend", "1"u8.ToArray());

        await UntilAsync(() => Snapshot(offsets).Count >= 4, "3 replayed and 1 live publication");
        Assert.Equal([3L, 4, 5, 6], Snapshot(offsets));
        Assert.Equal(6, subscription.Offset);
        lock (lost)
        {
            Assert.Empty(lost);
        }
    }

    [Fact]
    public async Task Sdk_SubscribeSinceBeyondRetention_RaisesRecoveryLostForTheChannel()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var channel = $"room:{run}";
        var grain = cluster.Backend.GetGrain<IChannelGrain>(channel);
        const int published = GatewayCluster.RetainedMessages + 50;
        for (var i = 0; i < published; i++)
        {
            await grain.PublishAsync("backend", "1"u8.ToArray());
        }

        await using var client = await ConnectAsync($"lost-ch-{run}", [Ws(cluster.Edges[0])]);
        var lost = new List<RecoveryLost>();
        client.RecoveryLost += l => { lock (lost) { lost.Add(l); } };
        await using var subscription = await client.SubscribeAsync(channel, since: 0).WaitAsync(Timeout);
        var offsets = CollectOffsets(subscription);

        await UntilAsync(() => Snapshot(offsets).Count >= GatewayCluster.RetainedMessages, "the retained history");
        lock (lost)
        {
            Assert.Equal([new RecoveryLost(channel)], lost);
        }

        // Offsets 1..50 left retention: what is replayed is exactly what the channel still holds.
        Assert.Equal(Enumerable.Range(51, GatewayCluster.RetainedMessages).Select(i => (long)i), Snapshot(offsets));
    }

    [Fact]
    public async Task Sdk_MailboxOverflowedRetentionWhileAway_RaisesRecoveryLostAndDeliversTheRetained()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var bobId = $"bob-{run}";
        await using var proxy = new TcpProxy(cluster.Edges[0]);
        await using var bob = await ConnectAsync(bobId, [proxy.Uri]);
        var (received, _) = Collect(bob);
        var lost = new List<RecoveryLost>();
        bob.RecoveryLost += l => { lock (lost) { lost.Add(l); } };

        proxy.Pause(); // bob is away (resumes with last_seq = 0) ...
        await UntilAsync(() => bob.State == ConnectionState.Reconnecting, "bob to notice");
        var mailbox = cluster.Backend.GetGrain<IClientGrain>(bobId);
        const int sent = GatewayCluster.RetainedMessages + 50;
        for (var i = 0; i < sent; i++)
        {
            await mailbox.SendAsync("backend", Utf8($$"""{"n":{{i}}}""")); // ... while more than the mailbox retains arrive
        }

        proxy.Resume();
        await UntilAsync(() => { lock (lost) { return lost.Count > 0; } }, "RecoveryLost");
        await UntilAsync(() => Numbers(received).Count >= GatewayCluster.RetainedMessages, "the retained messages");
        lock (lost)
        {
            Assert.Equal([new RecoveryLost(null)], lost);
        }

        Assert.Equal(Enumerable.Range(50, GatewayCluster.RetainedMessages), Numbers(received));
        Assert.Equal(2, bob.Connections);
    }

    [Fact]
    public async Task Sdk_NoAnswerWithinRequestTimeout_ThrowsGatewayExceptionTimeout()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var proxy = new TcpProxy(cluster.Edges[0]);
        var requestTimeout = TimeSpan.FromSeconds(1);
        await using var client = await ConnectAsync($"to-{run}", [proxy.Uri], o =>
        {
            o.RequestTimeout = requestTimeout;
            o.HeartbeatInterval = TimeSpan.FromMinutes(5); // the connection stays "up": only the request timeout can end the wait
        });

        proxy.Freeze(); // the send is written; no ok ever comes back
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var timedOut = await Assert.ThrowsAsync<GatewayException>(() => client.SendAsync($"to-{run}", Json("1")).WaitAsync(Timeout));
        Assert.Equal("timeout", timedOut.Code);
        Assert.True(watch.Elapsed >= requestTimeout - TimeSpan.FromMilliseconds(50), $"gave up after {watch.Elapsed}, before the {requestTimeout} timeout");
        Assert.Equal(ConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task Sdk_CancelledWhileAwaitingAnswer_ThrowsOperationCanceledWithTheCallersToken()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var proxy = new TcpProxy(cluster.Edges[0]);
        await using var client = await ConnectAsync($"cancel-{run}", [proxy.Uri], o =>
        {
            o.RequestTimeout = TimeSpan.FromMinutes(5);
            o.HeartbeatInterval = TimeSpan.FromMinutes(5);
        });

        proxy.Freeze();
        using var cts = new CancellationTokenSource();
        var send = client.SendAsync($"cancel-{run}", Json("1"), cts.Token);
        Assert.False(send.IsCompleted);
        await cts.CancelAsync();
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(Timeout));
        Assert.Equal(cts.Token, cancelled.CancellationToken);

        // An already cancelled token fails at once.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PublishAsync($"room:{run}", Json("1"), cts.Token).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Sdk_QueuedRequestCancelled_NeverSentAndFreesItsQueueSlot()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var proxy = new TcpProxy(cluster.Edges[0]);
        await using var bob = await ConnectAsync($"bob-{run}", [Ws(cluster.Edges[1])]);
        var (received, _) = Collect(bob);
        await using var alice = await ConnectAsync($"alice-{run}", [proxy.Uri], o => o.MaxQueuedRequests = 1);

        proxy.Pause();
        await UntilAsync(() => alice.State == ConnectionState.Reconnecting, "alice to notice");
        using var cts = new CancellationTokenSource();
        var cancelled = alice.SendAsync($"bob-{run}", Json("""{"n":1}"""), cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
        var second = alice.SendAsync($"bob-{run}", Json("""{"n":2}""")); // the only slot is free again

        proxy.Resume();
        await second.WaitAsync(Timeout);
        await UntilAsync(() => Numbers(received).Count >= 1, "the second message");
        Assert.Equal([2], Numbers(received)); // the queue is sent in order: had 1 gone out, it would have arrived first
    }

    [Fact]
    public async Task Sdk_ConnectCancelledWhileRetrying_ThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        var attempts = 0;
        var options = new GatewayClientOptions
        {
            Urls = [new Uri($"ws://127.0.0.1:{GatewayCluster.FreeTcpPort()}/ws")], // nothing listens there
            GetTokenAsync = _ =>
            {
                if (Interlocked.Increment(ref attempts) == 2)
                {
                    cts.Cancel(); // the first attempt failed and is being retried
                }

                return ValueTask.FromResult(cluster.Tokens.Hs256("nobody"));
            },
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(10),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(50),
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => GatewayClient.ConnectAsync(options, cts.Token).WaitAsync(Timeout));
        Assert.True(Volatile.Read(ref attempts) >= 2);
    }

    [Fact]
    public async Task Sdk_ConnectionLostAndRegained_StateChangedReconnectingConnectedThenDisconnectedOnDispose()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var proxy = new TcpProxy(cluster.Edges[0]);
        await using var client = await ConnectAsync($"states-{run}", [proxy.Uri]);
        var states = new List<ConnectionState>();
        client.StateChanged += s => { lock (states) { states.Add(s); } };
        Assert.Equal(ConnectionState.Connected, client.State);

        proxy.Pause();
        await UntilAsync(() => client.State == ConnectionState.Reconnecting, "Reconnecting");
        proxy.Resume();
        await UntilAsync(() => client.State == ConnectionState.Connected && client.Connections == 2, "Connected again");
        await client.DisposeAsync().AsTask().WaitAsync(Timeout);

        lock (states)
        {
            Assert.Equal([ConnectionState.Reconnecting, ConnectionState.Connected, ConnectionState.Disconnected], states);
        }
    }

    [Fact]
    public async Task Sdk_OnStateChangedOption_SeesTheFirstConnectingAndConnected()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var states = new List<ConnectionState>();
        await using var client = await ConnectAsync($"first-{run}", [Ws(cluster.Edges[0])], o => o.OnStateChanged = s => { lock (states) { states.Add(s); } });

        lock (states)
        {
            Assert.Equal([ConnectionState.Connecting, ConnectionState.Connected], states);
        }
    }

    [Fact]
    public async Task Sdk_EdgeDrained_WaitsTheByesReconnectMsInsteadOfItsBackoff()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var draining = await cluster.StartEdgeAsync(RestartTestSupport.DrainSettings()); // reconnect_ms ≤ 300
        await using var client = await ConnectAsync($"bye-{run}", [Ws(draining), Ws(cluster.Edges[0])], o =>
        {
            // Were reconnect_ms ignored, the backoff would wait ten minutes.
            o.ReconnectBaseDelay = TimeSpan.FromMinutes(10);
            o.ReconnectMaxDelay = TimeSpan.FromMinutes(10);
            o.Jitter = () => 1.0;
        });
        Assert.Equal(Ws(draining), client.CurrentUrl);

        await RestartTestSupport.DrainAsync(draining);
        await UntilAsync(() => client.CurrentUrl == Ws(cluster.Edges[0]) && client.State == ConnectionState.Connected, "the reconnect to the other edge");
        Assert.Equal(2, client.Connections);
        await client.SendAsync($"bye-{run}", Json("""{"n":1}""")).WaitAsync(Timeout);
    }
}
