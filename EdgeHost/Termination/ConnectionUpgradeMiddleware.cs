using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.EdgeHost.Termination;

/// <summary>
/// Kestrel connection middleware that performs the WebSocket upgrade of a connection whose first request is
/// <c>GET /ws</c> itself (RFC 6455 §4.2) and runs <c>WebSocket.CreateFromStream</c> over the transport's pipes. Behind
/// ASP.NET Core's upgrade, Kestrel keeps the connection's HTTP/1.1 state (request and response objects, header
/// collections, body streams, the middleware chain's awaiting frames) for the socket's whole life; here none of it
/// exists. The checks and the session are the same <see cref="HandshakeGate"/>'s as the endpoint's. Every other
/// connection (another path, TLS, HTTP/2) goes on to Kestrel's HTTP layer untouched: routing reads at most 8 bytes,
/// and nothing read is consumed.
/// </summary>
internal sealed partial class ConnectionUpgradeMiddleware(
    ConnectionDelegate next,
    HandshakeGate gate,
    KestrelServerLimits limits,
    TimeProvider time,
    ILogger<ConnectionUpgradeMiddleware> logger)
{
    /// <summary>Largest request head read: Kestrel's own limits for the request line and the headers.</summary>
    private readonly long _maxHeadBytes = limits.MaxRequestLineSize + (long)limits.MaxRequestHeadersTotalSize;

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        UpgradeRequestHead? head;
        // Bounded as Kestrel bounds a request head (slowloris): a client that never finishes its head is dropped.
        using (var headTimeout = new CancellationTokenSource(limits.RequestHeadersTimeout, time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(headTimeout.Token, connection.ConnectionClosed))
        {
            try
            {
                var (route, parsed) = await ReadHeadAsync(connection, linked.Token);
                if (route != UpgradeRoute.Ours)
                {
                    await next(connection);
                    return;
                }

                head = parsed;
            }
            catch (OperationCanceledException)
            {
                return; // timed out or gone before its head was complete
            }
        }

        var output = connection.Transport.Output;
        if (head is null || !head.IsWebSocketRequest)
        {
            await UpgradeResponses.WriteRefusalAsync(output, new HandshakeRefusal(StatusCodes.Status400BadRequest,
                head is null ? "malformed request" : "WebSocket upgrade required"), time.GetUtcNow());
            return;
        }

        var (admitted, refusal) = await gate.TryAdmitAsync(new HandshakeRequest(
            head.Header("Origin"),
            head.Header("Authorization"),
            head.AccessToken,
            head.LastSeq,
            head.OfferedProtocols,
            (connection.RemoteEndPoint as IPEndPoint)?.Address));
        if (admitted is null)
        {
            await UpgradeResponses.WriteRefusalAsync(output, refusal!, time.GetUtcNow());
            return;
        }

        try
        {
            var flushed = await UpgradeResponses.WriteSwitchingProtocolsAsync(output, head.Header("Sec-WebSocket-Key").ToString(), admitted.SubProtocol);
            if (flushed.IsCompleted)
            {
                gate.Release(admitted);
                return;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            gate.Release(admitted);
            return;
        }

        head = null; // not held for the socket's life
        var stream = new TransportStream(connection);
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = admitted.SubProtocol,
            KeepAliveInterval = gate.Heartbeat,
            KeepAliveTimeout = gate.Heartbeat,
        });
        await gate.RunAsync(socket, admitted, stream, connection.ConnectionClosed);
    }

    /// <summary>
    /// Reads until the connection's route is known and, when ours, until its head is complete, which it then consumes
    /// (what follows the head stays for the WebSocket). Not ours: nothing is consumed and the last read is examined no
    /// further than before, so Kestrel's first read returns at once with every byte.
    /// </summary>
    private async Task<(UpgradeRoute Route, UpgradeRequestHead? Head)> ReadHeadAsync(ConnectionContext connection, CancellationToken cancellationToken)
    {
        var input = connection.Transport.Input;
        long examined = 0;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var route = UpgradeRequestHead.Route(buffer);
            if (route == UpgradeRoute.NotOurs || (route == UpgradeRoute.NeedMore && (result.IsCompleted || buffer.IsEmpty)))
            {
                input.AdvanceTo(buffer.Start, buffer.GetPosition(examined));
                return (UpgradeRoute.NotOurs, null);
            }

            if (route == UpgradeRoute.Ours)
            {
                if (UpgradeRequestHead.TryFindEnd(buffer, out var end) && buffer.Slice(0, end).Length <= _maxHeadBytes)
                {
                    var head = UpgradeRequestHead.TryParse(buffer.Slice(0, end));
                    input.AdvanceTo(end);
                    return (UpgradeRoute.Ours, head);
                }

                if (buffer.Length > _maxHeadBytes || result.IsCompleted)
                {
                    Log.HeadRefused(logger, buffer.Length, result.IsCompleted);
                    input.AdvanceTo(buffer.End);
                    return (UpgradeRoute.Ours, null);
                }
            }

            examined = buffer.Length;
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1400, LogLevel.Debug, "WebSocket request head refused: {Bytes} bytes, connection ended: {Ended}", EventName = "UpgradeHeadRefused")]
        public static partial void HeadRefused(ILogger logger, long bytes, bool ended);
    }
}
