using System.IO.Pipelines;
using System.Text;
using OrleansGateway.EdgeHost.Termination;

namespace OrleansGateway.Tests.Termination;

public sealed class UpgradeResponsesTests
{
    // RFC 6455 §1.3's example: this key's accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
    private const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";

    [Theory]
    [InlineData(null, "")]
    [InlineData("ogw.v1.json", "Sec-WebSocket-Protocol: ogw.v1.json\r\n")]
    public async Task WriteSwitchingProtocolsAsync_SampleKey_WritesTheHeadWithItsAcceptValue(string? subProtocol, string protocolLine)
    {
        var pipe = new Pipe();

        await UpgradeResponses.WriteSwitchingProtocolsAsync(pipe.Writer, SampleKey, subProtocol);
        await pipe.Writer.CompleteAsync();

        var written = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" + protocolLine + "\r\n",
            Encoding.ASCII.GetString(written.Buffer));
    }
}
