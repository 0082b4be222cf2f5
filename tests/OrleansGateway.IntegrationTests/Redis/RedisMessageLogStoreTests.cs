using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansGateway.Grains;
using OrleansGateway.Grains.MessageLogs;
using OrleansGateway.IntegrationTests.Fixtures;
using StackExchange.Redis;

namespace OrleansGateway.IntegrationTests.Redis;

/// <summary>The durable mailbox store against a real redis-server (one per test: it starts in milliseconds).</summary>
public sealed class RedisMessageLogStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    private readonly RedisServer _server = new();
    private ConnectionMultiplexer? _redis;

    private RedisMessageLogStore Store => new(_redis!, "ogw:tests", NullLogger.Instance);

    public async Task InitializeAsync() => _redis = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString);

    public async Task DisposeAsync()
    {
        await _redis!.DisposeAsync();
        _server.Dispose();
    }

    [Theory]
    [InlineData("alice", "{\"text\":\"hi\"}")]
    [InlineData("", "null")]
    [InlineData("ünïcödé-backend", "[1,2,3]")]
    public async Task AppendThenLoad_ThroughRedis_Identical(string from, string json)
    {
        var message = new StreamMessage(1, from, Encoding.UTF8.GetBytes(json), 1_700_000_000_123);

        Assert.Null(await Store.AppendAsync("client", "bob", message, 10, MaxAge));
        var loaded = await Store.LoadAsync("client", "bob");

        var decoded = Assert.Single(loaded.Log!.Messages);
        Assert.Equal(1, loaded.Log.Seq);
        Assert.Equal((message.Seq, message.From, message.AcceptedAtUnixMs), (decoded.Seq, decoded.From, decoded.AcceptedAtUnixMs));
        Assert.Equal(json, Encoding.UTF8.GetString(decoded.Data));
    }

    [Fact]
    public async Task Append_SameSeqRepeated_AnsweredAsAlreadyHeldNotStoredTwice()
    {
        var message = Message(1, "first");
        Assert.Null(await Store.AppendAsync("client", "bob", message, 10, MaxAge));

        var held = await Store.AppendAsync("client", "bob", message, 10, MaxAge);

        Assert.Equal("first", Encoding.UTF8.GetString(held!.Data));
        Assert.Equal([1L], (await Store.LoadAsync("client", "bob")).Log!.Messages.Select(m => m.Seq));
    }

    [Fact]
    public async Task Append_OtherMessageUnderAHeldSeq_RefusedWithWhatTheStoreHolds()
    {
        // The lost-reply case: seq 2 reached Redis, memory took it back and offered seq 2 to the next send.
        await Store.AppendAsync("channel", "news", Message(1, "one"), 10, MaxAge);
        await Store.AppendAsync("channel", "news", Message(2, "unacknowledged"), 10, MaxAge);

        var held = await Store.AppendAsync("channel", "news", Message(2, "next"), 10, MaxAge);

        Assert.Equal((2L, "unacknowledged"), (held!.Seq, Encoding.UTF8.GetString(held.Data)));
        var stored = (await Store.LoadAsync("channel", "news")).Log!.Messages;
        Assert.Equal(["one", "unacknowledged"], stored.Select(m => Encoding.UTF8.GetString(m.Data)));
    }

    [Fact]
    public async Task Append_BeyondRetention_KeepsTheNewestAndTheInboundPosition()
    {
        for (var seq = 1; seq <= 5; seq++)
        {
            Assert.Null(await Store.AppendAsync("client", "bob", Message(seq, $"m{seq}"), 3, MaxAge, new InboundPosition("orders/3", 40 + seq)));
        }

        var loaded = await Store.LoadAsync("client", "bob");

        Assert.Equal([3L, 4L, 5L], loaded.Log!.Messages.Select(m => m.Seq));
        Assert.Equal(45, loaded.InboundPositions["orders/3"]);
    }

    [Fact]
    public async Task Append_RefusedSeq_InboundPositionNotStored()
    {
        await Store.AppendAsync("client", "bob", Message(1, "one"), 10, MaxAge, new InboundPosition("orders/3", 7));

        await Store.AppendAsync("client", "bob", Message(1, "other"), 10, MaxAge, new InboundPosition("orders/3", 8));

        Assert.Equal(7, (await Store.LoadAsync("client", "bob")).InboundPositions["orders/3"]);
    }

    [Fact]
    public async Task Load_RedisUnreachable_MailboxStoreExceptionWithoutInnerException()
    {
        await using var nowhere = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{GatewayCluster.FreeTcpPort()},abortConnect=false,connectTimeout=500,asyncTimeout=1000");
        var store = new RedisMessageLogStore(nowhere, "ogw:tests", NullLogger.Instance);

        var ex = await Assert.ThrowsAsync<MessageLogStoreException>(() => store.LoadAsync("client", "bob"));

        Assert.Null(ex.InnerException);
        Assert.Contains("loading client bob failed", ex.Message, StringComparison.Ordinal);
    }

    private static StreamMessage Message(long seq, string text) => new(seq, "a", Encoding.UTF8.GetBytes(text), 1_700_000_000_000 + seq);
}
