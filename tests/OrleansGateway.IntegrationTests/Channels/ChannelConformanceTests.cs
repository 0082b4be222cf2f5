using System.Text;
using Confluent.Kafka;
using OrleansGateway.IntegrationTests.Kafka;
using Orleans.Runtime;
using Orleans.Streams;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Channels;

/// <summary>
/// Channel behaviour every backend transport must give (docs/protocol.md: sub/unsub/pub, off, since, recovered).
/// One subclass per transport: memory streams (embedded default) and Kafka.
/// </summary>
public abstract class ChannelConformanceTests(GatewayCluster cluster)
{
    protected GatewayCluster Cluster => cluster;

    /// <summary>Publishes <paramref name="dataJson"/> on <paramref name="channel"/> the way a backend on this transport would.</summary>
    protected abstract Task PublishFromBackendAsync(string channel, string from, string dataJson);

    /// <summary>Sends <paramref name="dataJson"/> to a client the way a backend on this transport would.</summary>
    protected abstract Task SendFromBackendAsync(string clientId, string from, string dataJson);

    /// <summary>Starts listening for <c>up</c> frames on <paramref name="topic"/> the way a backend would; returns what arrived so far.</summary>
    protected abstract Task<Func<IReadOnlyList<UpstreamMessage>>> ListenUpstreamAsync(string topic);

    private static string Run() => Guid.NewGuid().ToString("N")[..8];

    private Task<TestClient> ConnectAsync(int edge, string sub, string[]? channels = null) =>
        TestClient.ConnectAsync(cluster.Edges[edge], cluster.Tokens.Hs256(sub, channels: channels));

    [Fact]
    public async Task Publish_SubscribersOnTwoEdges_EveryoneGetsEveryPublicationInOffsetOrder()
    {
        var run = Run();
        var channel = $"room:{run}";
        var subscribers = new List<TestClient>();
        for (var i = 0; i < 6; i++)
        {
            var client = await ConnectAsync(i % 2, $"sub{i}-{run}");
            Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
            subscribers.Add(client);
        }

        await using var publisher = await ConnectAsync(0, $"pub-{run}");
        for (var i = 0; i < 30; i++)
        {
            await publisher.SendTextAsync($$$"""{"t":"pub","id":"p{{{i}}}","ch":"{{{channel}}}","data":{"n":{{{i}}}}}""");
        }

        await publisher.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == 30);
        foreach (var subscriber in subscribers)
        {
            await subscriber.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") == 30);
            var pubs = subscriber.Frames.Where(f => f.Type() == "pub").ToList();
            Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), pubs.Select(p => p.GetProperty("off").GetInt64()));
            Assert.Equal(Enumerable.Range(0, 30), pubs.Select(p => p.GetProperty("data").GetProperty("n").GetInt32()));
            Assert.All(pubs, p => Assert.Equal($"pub-{run}", p.GetProperty("from").GetString()));
            Assert.All(pubs, p => Assert.Equal(channel, p.GetProperty("ch").GetString()));
        }

        // Six sockets on two edges cost the channel grain two subscriptions, not six.
        Assert.Equal(2, await cluster.Backend.GetGrain<IChannelGrain>(channel).GetEdgeCountAsync());
        foreach (var subscriber in subscribers)
        {
            await subscriber.DisposeAsync();
        }
    }

    [Fact]
    public async Task Subscribe_WithSince_ReplaysHistoryThenContinuesLive()
    {
        var run = Run();
        var channel = $"room:{run}";
        await using var publisher = await ConnectAsync(0, $"pub-{run}");
        for (var i = 1; i <= 10; i++)
        {
            Assert.Equal("ok", (await publisher.RequestAsync($$"""{"t":"pub","id":"$id","ch":"{{channel}}","data":{{i}}}""")).Type());
        }

        await using var late = await ConnectAsync(1, $"late-{run}");
        var ok = await late.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}","since":4}""");
        Assert.Equal(10, ok.GetProperty("off").GetInt64());
        Assert.True(ok.GetProperty("recovered").GetBoolean());
        await publisher.RequestAsync($$"""{"t":"pub","id":"$id","ch":"{{channel}}","data":11}""");

        await late.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") == 7);
        var frames = late.Frames.Where(f => f.Type() is "pub" or "ok").ToList();
        Assert.Equal("ok", frames[0].Type()); // the sub reply comes before its replay
        Assert.Equal(Enumerable.Range(5, 7).Select(i => (long)i), frames.Skip(1).Select(p => p.GetProperty("off").GetInt64()));
    }

    [Fact]
    public async Task Subscribe_WhilePublisherKeepsPublishing_NoGapNoReorderAtTheSeam()
    {
        var run = Run();
        var channel = $"room:{run}";
        await using var publisher = await ConnectAsync(0, $"pub-{run}");
        using var stop = new CancellationTokenSource();
        var published = 0;
        var publishing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && published < 3_000)
            {
                await publisher.RequestAsync($$"""{"t":"pub","id":"$id","ch":"{{channel}}","data":{{published}}}""");
                published++;
            }
        });

        await publisher.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") >= 20);
        await using var subscriber = await ConnectAsync(1, $"sub-{run}");
        var ok = await subscriber.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}","since":5}""");
        Assert.True(ok.GetProperty("recovered").GetBoolean());
        await subscriber.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") >= 40);
        await stop.CancelAsync();
        await publishing.WaitAsync(TestClient.DefaultTimeout);
        var total = published;
        await subscriber.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") >= total - 5);
        var offsets = subscriber.Frames.Where(f => f.Type() == "pub").Select(p => p.GetProperty("off").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(6, total - 5).Select(i => (long)i), offsets);
    }

    [Fact]
    public async Task Subscribe_SinceBeyondHistory_NotRecoveredAndReplaysWhatIsLeft()
    {
        var run = Run();
        var channel = $"room:{run}";
        await using var publisher = await ConnectAsync(0, $"pub-{run}");
        var total = GatewayCluster.RetainedMessages + 20;
        for (var i = 0; i < total; i++)
        {
            await publisher.SendTextAsync($$"""{"t":"pub","id":"p{{i}}","ch":"{{channel}}","data":{{i}}}""");
        }

        await publisher.WaitUntilAsync(f => f.Count(x => x.Type() == "ok") == total);
        await using var late = await ConnectAsync(1, $"late-{run}");
        var ok = await late.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}","since":0}""");
        Assert.False(ok.GetProperty("recovered").GetBoolean());
        await late.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") == GatewayCluster.RetainedMessages);
        Assert.Equal(21, late.Frames.First(f => f.Type() == "pub").GetProperty("off").GetInt64());
    }

    [Fact]
    public async Task SubAndPub_ChannelOutsideTokenPatterns_ErrForbidden()
    {
        var run = Run();
        await using var client = await ConnectAsync(0, $"c-{run}", channels: ["room:*", "lobby"]);
        Assert.Equal("forbidden", (await client.RequestAsync("""{"t":"sub","id":"$id","ch":"secret:1"}""")).GetProperty("code").GetString());
        Assert.Equal("forbidden", (await client.RequestAsync("""{"t":"pub","id":"$id","ch":"secret:1","data":1}""")).GetProperty("code").GetString());
        Assert.Equal("forbidden", (await client.RequestAsync("""{"t":"sub","id":"$id","ch":"lobby2"}""")).GetProperty("code").GetString());
        Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"room:{{run}}"}""")).Type());
        Assert.Equal("ok", (await client.RequestAsync("""{"t":"sub","id":"$id","ch":"lobby"}""")).Type());
        Assert.Equal("pong", (await client.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("star*")]
    [InlineData("quote\\\"")]
    public async Task Sub_InvalidChannelName_ErrBadRequest(string channel)
    {
        await using var client = await ConnectAsync(0, $"c-{Run()}");
        Assert.Equal("bad_request", (await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Sub_ChannelNameTooLong_ErrBadRequest()
    {
        await using var client = await ConnectAsync(0, $"c-{Run()}");
        var err = await client.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{new string('c', 129)}}"}""");
        Assert.Equal("bad_request", err.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Unsubscribe_LastLocalSubscriber_EdgeLeavesChannelAndStopsReceiving()
    {
        var run = Run();
        var channel = $"room:{run}";
        var grain = cluster.Backend.GetGrain<IChannelGrain>(channel);
        await using var a = await ConnectAsync(0, $"a-{run}");
        await using var b = await ConnectAsync(0, $"b-{run}");
        await a.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""");
        await b.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""");
        Assert.Equal(1, await grain.GetEdgeCountAsync());

        Assert.Equal("ok", (await a.RequestAsync($$"""{"t":"unsub","id":"$id","ch":"{{channel}}"}""")).Type());
        Assert.Equal(1, await grain.GetEdgeCountAsync());
        await b.CloseAsync(); // closing the last subscriber's socket unsubscribes too
        await GatewayClusterExtensions.EventuallyAsync(async () => await grain.GetEdgeCountAsync() == 0, what: "the edge to leave the channel");

        Assert.Equal(1, await grain.PublishAsync("backend", Encoding.UTF8.GetBytes("1")));

        // Marker round trip on the same path: subscribed again (no replay asked), the next publication must be the
        // first pub the client sees; a push of offset 1 still on its way to the edge would arrive before it.
        Assert.Equal("ok", (await a.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""")).Type());
        Assert.Equal(2, await grain.PublishAsync("backend", Encoding.UTF8.GetBytes("2")));
        var next = await a.WaitForFrameAsync("pub");
        Assert.Equal(2, next.GetProperty("off").GetInt64());
        Assert.Single(a.Frames, f => f.Type() == "pub");
    }

    [Fact]
    public async Task Backend_PublishesOnChannel_SubscribersOnBothEdgesReceive()
    {
        var run = Run();
        var channel = $"news:{run}";
        await using var one = await ConnectAsync(0, $"one-{run}");
        await using var two = await ConnectAsync(1, $"two-{run}");
        await one.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""");
        await two.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""");
        for (var i = 0; i < 5; i++)
        {
            await PublishFromBackendAsync(channel, "newsroom", $$"""{"headline":{{i}}}""");
        }

        foreach (var client in new[] { one, two })
        {
            await client.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") == 5, TimeSpan.FromSeconds(30));
            var pubs = client.Frames.Where(f => f.Type() == "pub").ToList();
            Assert.Equal(Enumerable.Range(0, 5), pubs.Select(p => p.GetProperty("data").GetProperty("headline").GetInt32()));
            Assert.All(pubs, p => Assert.Equal("newsroom", p.GetProperty("from").GetString()));
        }
    }

    [Fact]
    public async Task Backend_SendsToClient_ClientReceivesInOrder()
    {
        var run = Run();
        await using var client = await ConnectAsync(1, $"target-{run}");
        await client.WaitForFrameAsync("welcome");
        for (var i = 0; i < 5; i++)
        {
            await SendFromBackendAsync($"target-{run}", "billing", $$"""{"invoice":{{i}}}""");
        }

        await client.WaitForMessagesAsync(5, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 5), client.Messages.Select(m => m.GetProperty("data").GetProperty("invoice").GetInt32()));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long)i), client.Messages.Select(m => m.Seq()));
        Assert.All(client.Messages, m => Assert.Equal("billing", m.GetProperty("from").GetString()));
    }

    [Fact]
    public async Task Up_FromClient_ReachesBackendWithClientIdTopicAndData()
    {
        var run = Run();
        var topic = $"orders-{run}";
        var received = await ListenUpstreamAsync(topic);
        await using var client = await ConnectAsync(0, $"buyer-{run}");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("ok", (await client.RequestAsync($$$"""{"t":"up","id":"$id","topic":"{{{topic}}}","data":{"order":{{{i}}}}}""")).Type());
        }

        await GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(received().Count == 3), TimeSpan.FromSeconds(30), "3 upstream messages");
        var messages = received();
        Assert.All(messages, m => Assert.Equal($"buyer-{run}", m.ClientId));
        Assert.All(messages, m => Assert.Equal(topic, m.Topic));
        Assert.Equal(["{\"order\":0}", "{\"order\":1}", "{\"order\":2}"], messages.Select(m => Encoding.UTF8.GetString(m.Data)));
    }

    /// <summary>Issue #13: the sender's client grain remembers produced keys, so a repeat from any session on any edge is not produced again.</summary>
    [Fact]
    public async Task Up_WithKeyRepeatedFromAnotherEdge_ProducedOnceAndTheRepeatAnsweredDup()
    {
        var run = Run();
        var topic = $"keyed-{run}";
        var received = await ListenUpstreamAsync(topic);
        await using var tab1 = await ConnectAsync(0, $"buyer-{run}");
        await using var tab2 = await ConnectAsync(1, $"buyer-{run}");

        var first = await tab1.RequestAsync($$$"""{"t":"up","id":"$id","topic":"{{{topic}}}","key":"order-1","data":{"order":1}}""");
        var repeat = await tab2.RequestAsync($$$"""{"t":"up","id":"$id","topic":"{{{topic}}}","key":"order-1","data":{"order":1}}""");
        var reused = await tab2.RequestAsync($$$"""{"t":"up","id":"$id","topic":"{{{topic}}}","key":"order-1","data":{"order":9}}""");
        Assert.Equal("ok", (await tab1.RequestAsync($$$"""{"t":"up","id":"$id","topic":"{{{topic}}}","data":{"order":2}}""")).Type());

        Assert.Equal("ok", first.Type());
        Assert.False(first.TryGetProperty("dup", out _));
        Assert.Equal("ok", repeat.Type());
        Assert.True(repeat.GetProperty("dup").GetBoolean());
        Assert.Equal("bad_request", reused.GetProperty("code").GetString());

        // The unkeyed message was produced after the repeat, by the same client (one partition, in order).
        await GatewayClusterExtensions.EventuallyAsync(
            () => Task.FromResult(received().Any(m => Encoding.UTF8.GetString(m.Data) == "{\"order\":2}")), TimeSpan.FromSeconds(30), "the unkeyed message");
        Assert.Equal(["{\"order\":1}", "{\"order\":2}"], received().Select(m => Encoding.UTF8.GetString(m.Data)));
    }

    [Fact]
    public async Task EdgeProcess_KilledWhileSubscribed_DroppedFromChannelAndSubscriberRecoversElsewhere()
    {
        var run = Run();
        var channel = $"room:{run}";
        var grain = cluster.Backend.GetGrain<IChannelGrain>(channel);
        using var doomed = await EdgeProcess.StartAsync(cluster);
        await using var stays = await ConnectAsync(0, $"stays-{run}");
        var victim = await TestClient.ConnectAsync(doomed.Uri, cluster.Tokens.Hs256($"victim-{run}"));
        await stays.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""");
        await victim.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}"}""");
        Assert.Equal(2, await grain.GetEdgeCountAsync());

        await grain.PublishAsync("backend", Encoding.UTF8.GetBytes("1"));
        await victim.WaitUntilAsync(f => f.Any(x => x.Type() == "pub"));
        doomed.Kill();
        await victim.WaitClosedAsync();
        for (var i = 2; i <= 10; i++)
        {
            await grain.PublishAsync("backend", Encoding.UTF8.GetBytes(i.ToString()));
        }

        await GatewayClusterExtensions.EventuallyAsync(async () => await grain.GetEdgeCountAsync() == 1,
            GatewayCluster.LeaseTtl * 3, "the dead edge to be dropped from the channel");

        await stays.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") == 10);
        await using var again = await ConnectAsync(1, $"victim-{run}");
        var ok = await again.RequestAsync($$"""{"t":"sub","id":"$id","ch":"{{channel}}","since":1}""");
        Assert.True(ok.GetProperty("recovered").GetBoolean());
        await again.WaitUntilAsync(f => f.Count(x => x.Type() == "pub") == 9);
        Assert.Equal(Enumerable.Range(2, 9).Select(i => (long)i), again.Frames.Where(f => f.Type() == "pub").Select(p => p.GetProperty("off").GetInt64()));
        await victim.DisposeAsync();
    }
}

/// <summary>The embedded default: backends reach clients and channels through Orleans memory streams.</summary>
[Collection(GatewayCollection.Name)]
public sealed class MemoryStreamChannelTests(GatewayCluster cluster) : ChannelConformanceTests(cluster)
{
    protected override Task PublishFromBackendAsync(string channel, string from, string dataJson) =>
        Stream(InboundStreams.ChannelNamespace, channel).OnNextAsync(new InboundMessage(from, Encoding.UTF8.GetBytes(dataJson)));

    protected override Task SendFromBackendAsync(string clientId, string from, string dataJson) =>
        Stream(InboundStreams.ClientNamespace, clientId).OnNextAsync(new InboundMessage(from, Encoding.UTF8.GetBytes(dataJson)));

    protected override async Task<Func<IReadOnlyList<UpstreamMessage>>> ListenUpstreamAsync(string topic)
    {
        var received = new List<UpstreamMessage>();
        var stream = Cluster.Backend.GetStreamProvider(UpstreamStreams.ProviderName).GetStream<UpstreamMessage>(StreamId.Create(UpstreamStreams.Namespace, topic));
        await stream.SubscribeAsync((m, _) =>
        {
            lock (received)
            {
                received.Add(m);
            }

            return Task.CompletedTask;
        });
        return () =>
        {
            lock (received)
            {
                return [.. received];
            }
        };
    }

    private IAsyncStream<InboundMessage> Stream(string ns, string key) =>
        Cluster.Backend.GetStreamProvider(UpstreamStreams.ProviderName).GetStream<InboundMessage>(StreamId.Create(ns, key));
}

/// <summary>Kafka as the broker: backends produce records (docs/kafka.md) and consume the upstream topic.</summary>
public sealed class KafkaChannelTests(KafkaGatewayCluster cluster) : ChannelConformanceTests(cluster), IClassFixture<KafkaGatewayCluster>
{
    // (frame topic, ogw-key header) of every upstream record read, in order.
    private readonly List<(string Topic, string? Key)> _upstreamKeys = [];

    [Fact]
    public async Task Up_WithKey_RecordCarriesItInHeaderOgwKey()
    {
        var topic = $"keyed-{Guid.NewGuid():N}"[..14];
        var received = await ListenUpstreamAsync(topic);
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"buyer-{topic}"));
        Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"up","id":"$id","topic":"{{topic}}","key":"order-7","data":7}""")).Type());
        Assert.Equal("ok", (await client.RequestAsync($$"""{"t":"up","id":"$id","topic":"{{topic}}","data":8}""")).Type());

        await GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(received().Count == 2), TimeSpan.FromSeconds(30), "2 upstream records");
        lock (_upstreamKeys)
        {
            Assert.Equal(["order-7", null], _upstreamKeys.Where(k => k.Topic == topic).Select(k => k.Key));
        }
    }

    protected override Task PublishFromBackendAsync(string channel, string from, string dataJson) =>
        cluster.Producer.ProduceAsync(cluster.InboundTopic, KafkaTestKit.Record(channel, dataJson, target: "channel", from: from));

    protected override Task SendFromBackendAsync(string clientId, string from, string dataJson) =>
        cluster.Producer.ProduceAsync(cluster.InboundTopic, KafkaTestKit.Record(clientId, dataJson, target: "client", from: from));

    protected override Task<Func<IReadOnlyList<UpstreamMessage>>> ListenUpstreamAsync(string topic)
    {
        var received = new List<UpstreamMessage>();
        var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = cluster.Kafka.BootstrapServers,
            GroupId = $"reader-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 5,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset(cluster.UpstreamTopic, p, Offset.Beginning)));
        _ = Task.Run(() =>
        {
            using (consumer)
            {
                var until = DateTime.UtcNow.AddSeconds(60);
                while (DateTime.UtcNow < until)
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    if (result is null)
                    {
                        continue;
                    }

                    var headers = result.Message.Headers;
                    var frameTopic = Encoding.UTF8.GetString(headers.GetLastBytes("ogw-topic"));
                    if (frameTopic != topic)
                    {
                        continue;
                    }

                    lock (_upstreamKeys)
                    {
                        _upstreamKeys.Add((frameTopic, headers.TryGetLastBytes("ogw-key", out var key) ? Encoding.UTF8.GetString(key) : null));
                    }

                    // The key and the ogw-client header must both be the client id: a mismatch fails the test's assertions.
                    var headerClient = Encoding.UTF8.GetString(headers.GetLastBytes("ogw-client"));
                    var clientId = headerClient == result.Message.Key ? headerClient : $"key {result.Message.Key} != header {headerClient}";
                    lock (received)
                    {
                        received.Add(new UpstreamMessage(clientId, frameTopic, result.Message.Value));
                    }
                }
            }
        });
        return Task.FromResult<Func<IReadOnlyList<UpstreamMessage>>>(() =>
        {
            lock (received)
            {
                return [.. received];
            }
        });
    }
}
