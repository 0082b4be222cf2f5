using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Termination;

namespace OrleansGateway.Tests.Termination;

public sealed class ConnectionUpgradeMiddlewareTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("GET /health/ready HTTP/1.1\r\nHost: edge\r\n\r\n", 0)]
    [InlineData("GET /health/ready HTTP/1.1\r\nHost: edge\r\n\r\n", 5)]
    [InlineData("GET /health/ready HTTP/1.1\r\nHost: edge\r\n\r\n", 1)]
    [InlineData("GET /ws/ HTTP/1.1\r\nHost: edge\r\n\r\n", 6)]
    [InlineData("GET /ws/ HTTP/1.1\r\nHost: edge\r\n\r\n", 7)]
    public async Task OnConnection_OtherRequestSentInPieces_NextReadsEveryByteAtOnce(string request, int firstPieceLength)
    {
        // Inline schedulers: each write runs the middleware (and then next) until it waits for more input, so the
        // pieces are read apart; a next that had to wait for bytes never sent would time the test out.
        var (connection, client) = Connect();
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var middleware = new ConnectionUpgradeMiddleware(
            async c =>
            {
                // Kestrel's HTTP layer: one read must return what the client sent, without waiting for more.
                var result = await c.Transport.Input.ReadAsync();
                seen.SetResult(Encoding.ASCII.GetString(result.Buffer));
                c.Transport.Input.AdvanceTo(result.Buffer.End);
            },
            gate: null!, // never reached: the connection is not ours
            new KestrelServerLimits(),
            new FakeTimeProvider(),
            NullLogger<ConnectionUpgradeMiddleware>.Instance);

        var running = middleware.OnConnectionAsync(connection);
        if (firstPieceLength > 0)
        {
            await client.WriteAsync(Encoding.ASCII.GetBytes(request[..firstPieceLength]));
            Assert.False(seen.Task.IsCompleted);
        }

        await client.WriteAsync(Encoding.ASCII.GetBytes(request[firstPieceLength..]));

        var text = await seen.Task.WaitAsync(Timeout);
        await running.WaitAsync(Timeout);
        Assert.Equal(request, text);
    }

    private static (ConnectionContext Connection, PipeWriter Client) Connect()
    {
        var options = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        var fromClient = new Pipe(options);
        var toClient = new Pipe(options);
        var connection = new DefaultConnectionContext("c1", new DuplexPipe(fromClient.Reader, toClient.Writer), new DuplexPipe(toClient.Reader, fromClient.Writer));
        return (connection, fromClient.Writer);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
