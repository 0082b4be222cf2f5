using System.Net.WebSockets;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Protocol;

[Collection(GatewayCollection.Name)]
public sealed class SlowConsumerTests(GatewayCluster cluster)
{
    [Fact]
    public async Task SlowReader_OutboxOverflows_ByeSlowConsumerWhileFastReaderKeepsReceiving()
    {
        var edge = await cluster.StartEdgeAsync(new Dictionary<string, string?>
        {
            ["Gateway:Edge:OutboxCapacity"] = "16",
            ["Gateway:Edge:CloseTimeout"] = "00:00:30",
            ["Gateway:Limits:BytesPerSecond"] = "1000000000", // the sender pushes ~20 MB at once
            ["Gateway:Limits:ByteBurst"] = "1000000000",
            ["Gateway:Limits:FrameBurst"] = "10000",
            ["Gateway:Limits:ClientBytesPerSecond"] = "1000000000",
            ["Gateway:Limits:ClientByteBurst"] = "1000000000",
            ["Gateway:Limits:ClientFrameBurst"] = "10000",
        });
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var sender = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"s-{run}"));
        await using var fast = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"fast-{run}"));
        var slow = await TestClient.ConnectAsync(edge, cluster.Tokens.Hs256($"slow-{run}"), startReading: false);
        await fast.WaitForFrameAsync("welcome");

        // Big messages fill the kernel socket buffers quickly; then the 16-frame outbox overflows.
        var payload = $"\"{new string('x', 48 * 1024)}\"";
        const int toSlow = 400;
        for (var i = 0; i < toSlow; i++)
        {
            await sender.SendAsync($"slow-{run}", payload);
            if (i % 10 == 0)
            {
                await sender.SendAsync($"fast-{run}", i.ToString());
            }
        }

        await sender.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == toSlow + toSlow / 10, what: "every send acknowledged");
        await fast.WaitForMessagesAsync(toSlow / 10);
        Assert.Equal(Enumerable.Range(0, toSlow / 10).Select(i => (i * 10).ToString()), fast.Messages.Select(m => m.GetProperty("data").GetRawText()));

        // Now the slow client reads what was buffered: it ends with bye slow_consumer and close 1013.
        slow.StartReading();
        var bye = await slow.WaitForFrameAsync("bye", TimeSpan.FromSeconds(30));
        Assert.Equal("slow_consumer", bye.GetProperty("code").GetString());
        await slow.WaitClosedAsync();
        Assert.Equal((WebSocketCloseStatus)1013, slow.CloseStatus);
        var lastSeen = slow.Messages.Count == 0 ? 0 : slow.Messages[^1].Seq();
        Assert.True(lastSeen < toSlow, $"the slow consumer should not have received everything (got {lastSeen})");
        await slow.DisposeAsync();

        // Nothing acknowledged is lost: resuming gets exactly the rest (retention holds the last 100).
        var keep = Math.Max(lastSeen, toSlow - GatewayCluster.RetainedMessages);
        await using var resumed = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"slow-{run}"), lastSeq: keep);
        var welcome = await resumed.WaitForFrameAsync("welcome");
        Assert.True(welcome.GetProperty("recovered").GetBoolean());
        await resumed.WaitForMessagesAsync(toSlow - (int)keep);
        Assert.Equal(Enumerable.Range((int)keep + 1, toSlow - (int)keep).Select(i => (long)i), resumed.Messages.Select(m => m.Seq()));
    }
}
