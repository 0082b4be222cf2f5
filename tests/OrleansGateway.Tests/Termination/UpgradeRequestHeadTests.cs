using System.Buffers;
using System.Text;
using OrleansGateway.EdgeHost.Termination;

namespace OrleansGateway.Tests.Termination;

public sealed class UpgradeRequestHeadTests
{
    private const string Upgrade =
        "GET /ws?access_token=abc.def&last_seq=7 HTTP/1.1\r\nHost: edge\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: x.v2, ogw.v1.json\r\n"
        + "Origin: https://app.example\r\n\r\n";

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.Latin1.GetBytes(text));

    [Theory]
    [InlineData("GET /ws?a=1 HTTP/1.1\r\n", "Ours")]
    [InlineData("GET /ws HTTP/1.1\r\n", "Ours")]
    [InlineData("GET /ws/ HTTP/1.1\r\n", "NotOurs")]
    [InlineData("GET /wsx HTTP/1.1\r\n", "NotOurs")]
    [InlineData("GET /WS HTTP/1.1\r\n", "NotOurs")]
    [InlineData("GET /health/ready HTTP/1.1\r\n", "NotOurs")]
    [InlineData("POST /admin/drain HTTP/1.1\r\n", "NotOurs")]
    [InlineData("\u0016\u0003\u0001", "NotOurs")]
    [InlineData("GET /w", "NeedMore")]
    [InlineData("GET /ws", "NeedMore")]
    [InlineData("", "NeedMore")]
    public void Route_FirstBytes_OursOnlyForExactlyGetWs(string start, string expected) =>
        Assert.Equal(Enum.Parse<UpgradeRoute>(expected), UpgradeRequestHead.Route(Bytes(start)));

    [Fact]
    public void TryFindEnd_HeadFollowedByFrameBytes_EndsAfterBlankLine()
    {
        var buffer = Bytes(Upgrade + "\u0081\u0080");
        Assert.True(UpgradeRequestHead.TryFindEnd(buffer, out var end));
        Assert.Equal(Upgrade.Length, buffer.Slice(0, end).Length);
        Assert.False(UpgradeRequestHead.TryFindEnd(Bytes(Upgrade[..^2]), out _));
    }

    [Fact]
    public void TryParse_ValidUpgrade_ReadsQueryHeadersAndProtocols()
    {
        var head = UpgradeRequestHead.TryParse(Bytes(Upgrade));

        Assert.NotNull(head);
        Assert.True(head.IsWebSocketRequest);
        Assert.Equal("abc.def", head.Query["access_token"].ToString());
        Assert.Equal("7", head.Query["last_seq"].ToString());
        Assert.Equal("https://app.example", head.Header("origin").ToString());
        Assert.Equal(["x.v2", "ogw.v1.json"], head.OfferedProtocols);
    }

    // What the upgrade reads from the query is what the whole query, parsed as ASP.NET Core parses it, holds.
    [Theory]
    [InlineData("?access_token=abc.def&last_seq=7")]
    [InlineData("?ACCESS_TOKEN=abc&Last_Seq=1")]
    [InlineData("?access_token=a&access_token=b&last_seq=1&last_seq=2")]
    [InlineData("?access%5Ftoken=x%2Ey+z&last_seq=%37")]
    [InlineData("?access_token&last_seq=")]
    [InlineData("?other=1&&=2&access_token==x")]
    [InlineData("?")]
    [InlineData("")]
    public void TryParse_Query_AccessTokenAndLastSeqAsTheParsedQueryHoldsThem(string query)
    {
        var head = UpgradeRequestHead.TryParse(Bytes(Upgrade.Replace("?access_token=abc.def&last_seq=7", query, StringComparison.Ordinal)));

        Assert.NotNull(head);
        Assert.Equal(head.Query.GetValueOrDefault("access_token"), head.AccessToken);
        Assert.Equal(head.Query.GetValueOrDefault("last_seq"), head.LastSeq);
    }

    [Fact]
    public void TryParse_RepeatedHeaderAcrossSegments_KeepsEveryValueInOrder()
    {
        var text = Upgrade.Replace("Origin: https://app.example\r\n", "Origin: https://a.example\r\nX-Other: 1\r\norigin:\thttps://b.example \r\n", StringComparison.Ordinal);
        var bytes = Encoding.Latin1.GetBytes(text);
        var first = new Segment(bytes.AsMemory(0, 40));
        var last = first.Append(bytes.AsMemory(40));

        var head = UpgradeRequestHead.TryParse(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length));

        Assert.NotNull(head);
        Assert.True(head.IsWebSocketRequest);
        Assert.Equal(new string?[] { "https://a.example", "https://b.example" }, head.Header("Origin").ToArray());
        Assert.Equal("abc.def", head.AccessToken.ToString());
    }

    [Theory]
    [InlineData("Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 8\r\n")]
    [InlineData("Upgrade: websocket\r\n", "Upgrade: h2c\r\n")]
    [InlineData("Connection: keep-alive, Upgrade\r\n", "Connection: keep-alive\r\n")]
    [InlineData("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "Sec-WebSocket-Key: c2hvcnQ=\r\n")]
    [InlineData("Host: edge\r\n", "")]
    [InlineData("HTTP/1.1\r\n", "HTTP/1.0\r\n")]
    [InlineData("Host: edge\r\n", "Host: edge\r\nContent-Length: 3\r\n")]
    public void IsWebSocketRequest_NotAValidUpgrade_False(string from, string to)
    {
        var head = UpgradeRequestHead.TryParse(Bytes(Upgrade.Replace(from, to, StringComparison.Ordinal)));

        Assert.NotNull(head);
        Assert.False(head.IsWebSocketRequest);
    }

    [Theory]
    [InlineData("Host: edge\r\n", "Host : edge\r\n")]
    [InlineData("Host: edge\r\n", "Host: edge\r\n folded\r\n")]
    [InlineData("Host: edge\r\n", "no colon\r\n")]
    [InlineData("GET /ws?", "GET  /ws?")]
    [InlineData("Host: edge\r\n", "X-Other : 1\r\n")]
    [InlineData("HTTP/1.1\r\n", "HTTP/1.1 x\r\n")]
    [InlineData("GET /ws?", "POST /ws?")]
    public void TryParse_MalformedHead_Null(string from, string to) =>
        Assert.Null(UpgradeRequestHead.TryParse(Bytes(Upgrade.Replace(from, to, StringComparison.Ordinal))));

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
