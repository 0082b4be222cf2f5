using System.Text.Json;
using OrleansGateway.Client;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;
using Xunit.Abstractions;

namespace OrleansGateway.IntegrationTests.ClientSdk;

/// <summary>
/// Exactly once, end to end, with the .NET SDK against real edges and grains: whenever the SDK cannot know whether the
/// gateway took a request (its answer lost to an edge's call timeout, its edge killed), it sends it again with the same
/// key, and the recipient gets it once while the sender's Task completes once.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class GatewayClientExactlyOnceTests(GatewayCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static Uri Ws(Uri edge) => new UriBuilder(edge) { Path = "/ws" }.Uri;

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private Task<GatewayClient> ConnectAsync(string sub, IReadOnlyList<Uri> urls, Action<GatewayClientOptions>? configure = null)
    {
        var options = new GatewayClientOptions
        {
            Urls = urls,
            GetTokenAsync = _ => ValueTask.FromResult(cluster.Tokens.Hs256(sub)),
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            RequestTimeout = Timeout, // the deadline of every send: far beyond what these faults take
        };
        configure?.Invoke(options);
        return GatewayClient.ConnectAsync(options).WaitAsync(Timeout);
    }

    /// <summary>Reads direct messages in the background, as an app would.</summary>
    private static List<DirectMessage> Collect(GatewayClient client)
    {
        var received = new List<DirectMessage>();
        _ = Task.Run(async () =>
        {
            await foreach (var message in client.Messages)
            {
                lock (received)
                {
                    received.Add(message);
                }
            }
        });
        return received;
    }

    private static List<int> Numbers(List<DirectMessage> received)
    {
        lock (received)
        {
            return received.Select(m => m.Data.GetProperty("n").GetInt32()).ToList();
        }
    }

    private static Task UntilAsync(Func<bool> condition, string what) =>
        GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(condition()), Timeout, what);

    [Fact]
    public async Task Sdk_AnswerLostToEdgeCallTimeout_RetriedWithItsKeyRecipientGetsItOnceTaskCompletesOnce()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await ConnectAsync($"alice-{run}", [Ws(cluster.Edges[0])]);
        await using var bob = await ConnectAsync($"bob-{run}", [Ws(cluster.Edges[1])]);
        var received = Collect(bob);

        // Every call of the keyed send to bob's grain waits in alice's edge until released: the edge answers each with
        // err unavailable after its call timeout, while the call itself stays pending and, once released, reaches the
        // grain — the message is taken after its answer was lost, as when a stopping silo's answer never comes.
        Task<SendReceipt> send;
        using (var stall = CallStallFilter.Arm(nameof(IClientSessionGrain.SendOneWayAsync), $"bob-{run}"))
        {
            send = alice.SendAsync($"bob-{run}", Json("""{"n":1}"""));
            await UntilAsync(() => CallStallFilter.Stalled(nameof(IClientSessionGrain.SendOneWayAsync), $"bob-{run}") >= 2, "the SDK's retry after err unavailable");
            Assert.False(send.IsCompleted, "an err unavailable does not complete the send: the SDK retries it");
        }

        var receipt = await send.WaitAsync(Timeout);
        output.WriteLine($"receipt {receipt}");

        // A second message behind it: once it arrived, the first (and any repeat of it) would have arrived before.
        await alice.SendAsync($"bob-{run}", Json("""{"n":2}""")).WaitAsync(Timeout);
        await UntilAsync(() => Numbers(received).Contains(2), "the second message");
        Assert.Equal([1, 2], Numbers(received));
        lock (received)
        {
            Assert.Equal(received[0].Seq, receipt.Seq);
        }
    }

    [Fact]
    public async Task Sdk_SendersEdgeKilledWith1000SendsInFlight_ResentElsewhereNoneLostNoneTwiceInOrder()
    {
        const int Count = 1_000;
        var run = Guid.NewGuid().ToString("N")[..8];
        using var doomed = await EdgeProcess.StartAsync(cluster);
        await using var bob = await ConnectAsync($"bob-{run}", [Ws(cluster.Edges[0])]);
        var received = Collect(bob);
        var bobLost = 0; // resumes that came back recovered:false: what bob missed had left retention
        bob.RecoveryLost += _ => Interlocked.Increment(ref bobLost);
        await using var alice = await ConnectAsync($"alice-{run}", [Ws(doomed.Uri), Ws(cluster.Edges[1])], o => o.MaxQueuedRequests = Count);

        // Sends pipelined (not awaited one by one) in batches of 25 every 200 ms, below the edge's 200 frames/s so the
        // rate limit does not interfere. Half way, the edge is killed (SIGKILL) with the current batch unanswered; one
        // of its sends certainly taken: held in bob's grain (in the silo) until the edge is dead, then taken, its
        // answer lost with the edge. The SDK cannot know which were taken; it re-sends them all, with their keys.
        var sends = new List<Task<SendReceipt>>(Count);
        var unansweredAtKill = 0;
        IDisposable? stall = null;
        for (var i = 0; i < Count; i++)
        {
            if (i == Count / 2)
            {
                stall = CallStallFilter.Arm(nameof(IClientSessionGrain.SendOneWayAsync), $"bob-{run}", count: 1, at: CallStallFilter.At.Grain);
            }

            sends.Add(alice.SendAsync($"bob-{run}", Json($$"""{"n":{{i}}}""")));
            if (i % 25 != 24)
            {
                continue;
            }

            if (stall is not null)
            {
                await UntilAsync(() => CallStallFilter.Stalled(nameof(IClientSessionGrain.SendOneWayAsync), $"bob-{run}") == 1, "a send held in bob's grain");
                unansweredAtKill = sends.Count(s => !s.IsCompleted);
                doomed.Kill();
                await UntilAsync(() => alice.Connections == 2, "alice to reconnect after the kill");
                stall.Dispose();
                stall = null;
            }

            await Task.Delay(200); // pacing, not synchronisation
        }

        var receipts = await Task.WhenAll(sends).WaitAsync(Timeout);
        try
        {
            await UntilAsync(() => Numbers(received).Count >= Count, $"all {Count} at bob");
        }
        catch (TimeoutException)
        {
            // Every send was acknowledged (above): say which acknowledged messages bob never got.
            // And whether bob's mailbox holds them (a delivery gap) or never took them (acknowledged without append).
            var got = Numbers(received).ToHashSet();
            var missing = Enumerable.Range(0, Count).Where(n => !got.Contains(n)).ToList();
            var mailbox = await cluster.Backend.GetGrain<IClientGrain>($"bob-{run}").GetPresenceAsync().WaitAsync(Timeout);
            long lastSeq;
            lock (received)
            {
                lastSeq = received.Count == 0 ? 0 : received.Max(m => m.Seq);
            }

            throw new TimeoutException($"bob got {got.Count} of {Count}; missing {missing.Count}: {string.Join(",", missing.Take(40))}; alice connections {alice.Connections}, unanswered at the kill {unansweredAtKill}; " +
                $"bob connections {bob.Connections}, resumes not recovered {Volatile.Read(ref bobLost)}, last seq bob got {lastSeq}, bob's mailbox seq {mailbox.Seq} with {mailbox.Sessions} session(s)");
        }

        var numbers = Numbers(received);
        output.WriteLine($"alice connections {alice.Connections}, acknowledged as dup {receipts.Count(r => r.Duplicate)}, received {numbers.Count}, unanswered at the kill {unansweredAtKill}");
        Assert.Equal(Enumerable.Range(0, Count), numbers); // none lost, none twice, in send order
        Assert.Equal(2, alice.Connections);
        Assert.Equal(Ws(cluster.Edges[1]), alice.CurrentUrl);
        Assert.Equal(Count, receipts.Select(r => r.Key).Distinct().Count());
        Assert.Equal(Count, receipts.Select(r => r.Seq).Distinct().Count());
    }

    [Fact]
    public async Task Sdk_SameKeySentTwice_SecondIsDuplicateWithTheFirstsSeqAndDeliveredOnce()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await ConnectAsync($"alice-{run}", [Ws(cluster.Edges[0])]);
        await using var bob = await ConnectAsync($"bob-{run}", [Ws(cluster.Edges[1])]);
        var received = Collect(bob);
        var options = new RequestOptions { Key = $"order-{run}" };

        var first = await alice.SendAsync($"bob-{run}", Json("""{"n":1}"""), options);
        var again = await alice.SendAsync($"bob-{run}", Json("""{"n":1}"""), options);
        var reused = await Assert.ThrowsAsync<GatewayException>(() => alice.SendAsync($"bob-{run}", Json("""{"n":9}"""), options));
        await alice.SendAsync($"bob-{run}", Json("""{"n":2}"""));

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Seq, again.Seq);
        Assert.Equal("bad_request", reused.Code); // the key with other data: invalid, never retried
        await UntilAsync(() => Numbers(received).Contains(2), "the second message");
        Assert.Equal([1, 2], Numbers(received));
    }

    [Fact]
    public async Task Sdk_KeyEmptyOrTooLong_BadRequestWithoutSendingAndTheClientStaysConnected()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var alice = await ConnectAsync($"alice-{run}", [Ws(cluster.Edges[0])]);

        foreach (var key in new[] { "", new string('k', GatewayClient.MaxKeyLength + 1) })
        {
            var invalid = await Assert.ThrowsAsync<GatewayException>(() => alice.PublishAsync($"room:{run}", Json("1"), new RequestOptions { Key = key }));
            Assert.Equal("bad_request", invalid.Code);
        }

        var ok = await alice.PublishAsync($"room:{run}", Json("1"), new RequestOptions { Key = new string('k', GatewayClient.MaxKeyLength) });
        Assert.Equal(1, ok.Offset);
        Assert.Equal(ConnectionState.Connected, alice.State);
        Assert.Equal(1, alice.Connections);
    }
}
