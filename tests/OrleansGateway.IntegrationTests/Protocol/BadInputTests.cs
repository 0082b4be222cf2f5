using System.Net.WebSockets;
using System.Text;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Protocol;

[Collection(GatewayCollection.Name)]
public sealed class BadInputTests(GatewayCluster cluster)
{
    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"t\":\"teleport\",\"id\":\"x\"}")]
    [InlineData("{\"t\":\"send\",\"id\":\"x\",\"data\":1}")]
    [InlineData("{\"t\":42}")]
    [InlineData("{\"t\":\"ping\"} trailing")]
    [InlineData("")]
    public async Task Frame_Malformed_ErrBadRequestAndConnectionStillWorks(string frame)
    {
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bad-{Guid.NewGuid():N}"));
        await client.WaitForFrameAsync("welcome");
        await client.SendTextAsync(frame);
        var err = await client.WaitForFrameAsync("err");
        Assert.Equal("bad_request", err.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(err.GetProperty("msg").GetString()));

        Assert.Equal("pong", (await client.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
    }

    [Fact]
    public async Task Frame_UnknownType_ErrEchoesId()
    {
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bad-{Guid.NewGuid():N}"));
        var err = await client.RequestAsync("""{"t":"teleport","id":"$id","extra":{"deep":[1,2]}}""");
        Assert.Equal("err", err.Type());
        Assert.Equal("bad_request", err.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    public async Task Send_InvalidRecipientId_ErrBadRequest(string to)
    {
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bad-{Guid.NewGuid():N}"));
        var err = await client.RequestAsync($$"""{"t":"send","id":"$id","to":"{{to}}","data":1}""");
        Assert.Equal("err", err.Type());
        Assert.Equal("bad_request", err.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Send_RecipientIdTooLong_ErrBadRequest()
    {
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bad-{Guid.NewGuid():N}"));
        var err = await client.RequestAsync($$"""{"t":"send","id":"$id","to":"{{new string('a', 129)}}","data":1}""");
        Assert.Equal("bad_request", err.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Frame_BinaryMessage_ErrBadRequestAndConnectionStays()
    {
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"bad-{Guid.NewGuid():N}"));
        await client.SendRawAsync([1, 2, 3], WebSocketMessageType.Binary);
        Assert.Equal("bad_request", (await client.WaitForFrameAsync("err")).GetProperty("code").GetString());
        Assert.Equal("pong", (await client.RequestAsync("""{"t":"ping","id":"$id"}""")).Type());
    }

    [Fact]
    public async Task Frame_InvalidUtf8Text_Closed1007AndOthersUnharmed()
    {
        // RFC 6455 §8.1: a text message that is not UTF-8 fails the connection with 1007; the WebSocket layer
        // enforces it before the gateway sees the frame (docs/protocol.md, "Close codes").
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var bystander = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"by-{run}"));
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"utf-{run}"));
        await client.WaitForFrameAsync("welcome");
        var bytes = Encoding.UTF8.GetBytes($$"""{"t":"send","id":"u","to":"by-{{run}}","data":"??"}""");
        bytes[^4] = 0xC3; // a truncated two-byte sequence inside the string
        bytes[^3] = 0x28;
        await client.SendRawAsync(bytes, WebSocketMessageType.Text);
        await client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, client.CloseStatus);
        Assert.DoesNotContain(client.Frames, f => f.Type() == "ok");
        await bystander.AssertMarkerIsNextMessageAsync($"by-{run}", bystander); // the refused send never reached the mailbox
    }

    [Fact]
    public async Task Frame_OverSizeLimit_Closed1009AndOthersUnharmed()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var bystander = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"by-{run}"));
        await using var client = await TestClient.ConnectAsync(cluster.Edges[0], cluster.Tokens.Hs256($"big-{run}"));
        await client.WaitForFrameAsync("welcome");
        var huge = $$"""{"t":"send","id":"big","to":"by-{{run}}","data":"{{new string('x', 70 * 1024)}}"}""";
        try
        {
            await client.SendTextAsync(huge);
        }
        catch (WebSocketException)
        {
            // The server may close while we are still writing.
        }

        await client.WaitClosedAsync();
        Assert.True(WebSocketCloseStatus.MessageTooBig == client.CloseStatus, $"closed with {client.CloseStatus}");
        Assert.DoesNotContain(client.Frames, f => f.Type() == "ok");
        await bystander.AssertMarkerIsNextMessageAsync($"by-{run}", bystander); // the refused send never reached the mailbox
    }

    [Fact]
    public async Task Ping_WithId_PongEchoesId()
    {
        await using var client = await TestClient.ConnectAsync(cluster.Edges[1], cluster.Tokens.Hs256($"p-{Guid.NewGuid():N}"));
        await client.SendTextAsync("""{"t":"ping","id":"abc"}""");
        var pong = await client.WaitForFrameAsync("pong");
        Assert.Equal("abc", pong.GetProperty("id").GetString());
    }
}
