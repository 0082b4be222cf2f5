using System.Buffers;
using System.Net.WebSockets;
using OrleansGateway.EdgeHost.Protocol;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// The WebSocket side of one session (SignalR's <c>WebSocketsServerTransport</c>, Centrifuge's
/// <c>handler_websocket.go</c>): a receive loop that reads frames and hands them to the <see cref="FrameDispatcher"/>,
/// a send loop that alone writes to the socket from the session's outbox, the close handshake, and the abort. It holds
/// no session state: identity, close state, limits and the outbox are the <see cref="ClientSession"/>'s.
/// </summary>
internal sealed class SessionTransport(WebSocket socket, SessionServices services, FrameDispatcher dispatcher, IPeerCloseWaiter? peer)
    : ISessionTransport
{
    private const int InitialReceiveBufferSize = 4 * 1024;

    // Set once by RunAsync, read by the loops: a field here, not a parameter hoisted into each loop's state machine
    // (memory per connection).
    private ClientSession _session = null!;
    private bool _failedByWebSocketLayer;

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Abort() => socket.Abort();

    /// <summary>Runs <paramref name="session"/> to its end. Never throws for a client's misbehaviour or a dropped connection.</summary>
    public async Task RunAsync(ClientSession session, long? lastSeq, CancellationToken requestAborted)
    {
        _session = session;
        try
        {
            await session.AttachAsync(lastSeq);
            var receiving = ReceiveLoopAsync(requestAborted);
            var sending = SendLoopAsync();
            if (await Task.WhenAny(receiving, sending) == sending)
            {
                // We closed: give the client a bounded time to answer the close handshake, then abort.
                try
                {
                    await receiving.WaitAsync(services.Options.CloseTimeout, services.Time);
                }
                catch (TimeoutException)
                {
                    // The client did not answer the close handshake: the finally block aborts the socket.
                }

                // A session closed before its receive loop ever read (refused attach) never saw the client's
                // answer: read it now, or closing the socket with that input unread resets the connection and
                // the client loses our close status.
                await DrainUntilCloseAsync();
            }
            else
            {
                session.RequestClose(CloseReason.Normal, abandonQueued: true);
                await sending;
                await DrainUntilCloseAsync();
            }
        }
        finally
        {
            session.Unregister();
            if (_failedByWebSocketLayer && peer is not null)
            {
                await peer.WaitForPeerCloseAsync(services.Options.CloseTimeout, services.Time);
            }

            socket.Abort();
            socket.Dispose();
            await session.EndAsync();
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!_session.IsClosing)
            {
                // Zero-byte read: an idle session holds no receive buffer (memory per connection).
                var peek = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (peek.EndOfMessage)
                {
                    // An empty message: not a JSON object.
                    services.Metrics.FrameIn();
                    _session.Send(JsonFrameCodec.Error(null, ErrorCodes.BadRequest, "empty frame"));
                    continue;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferSize);
                try
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        if (length == buffer.Length)
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, services.Options.MaxFrameBytes + 1));
                            buffer.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }

                        result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            return;
                        }

                        length += result.Count;
                        if (length > services.Options.MaxFrameBytes)
                        {
                            _session.RequestClose(CloseReason.FrameTooLarge);
                            return;
                        }
                    }
                    while (!result.EndOfMessage);

                    services.Metrics.FrameIn();
                    if (!_session.TryTakeBudget(buffer.AsSpan(0, length)))
                    {
                        // Not processed (so nothing is acknowledged or lost); the session answered or closed.
                    }
                    else if (result.MessageType == WebSocketMessageType.Binary)
                    {
                        _session.Send(JsonFrameCodec.Error(null, ErrorCodes.BadRequest, "binary frames are not supported: send JSON text frames"));
                    }
                    else if (JsonFrameCodec.TryParse(buffer.AsSpan(0, length), out var frame, out var error))
                    {
                        if (!_session.TryBeginDispatch())
                        {
                            return; // closing: a frame not handled is never acknowledged, so nothing is lost
                        }

                        try
                        {
                            await dispatcher.DispatchAsync(_session, frame!);
                        }
                        finally
                        {
                            _session.EndDispatch();
                        }
                    }
                    else
                    {
                        _session.Send(JsonFrameCodec.Error(error));
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.Faulted)
        {
            // The WebSocket layer failed the connection itself (invalid UTF-8 → 1007, a protocol error → 1002): it
            // sent its close frame and stopped reading. See GracefulUpgradeFeature.
            _failedByWebSocketLayer = true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The peer vanished or the session is being torn down: a normal end for a socket.
        }
    }

    private async Task SendLoopAsync()
    {
        // No cancellation token: completing the outbox wakes the wait, and a write that outlasts CloseTimeout after
        // closing started is ended by the session's close timer aborting the socket.
        try
        {
            while (!_session.AbandonQueued && await _session.Outbox.WaitToReadAsync())
            {
                while (!_session.AbandonQueued && _session.Outbox.TryRead(out var frame))
                {
                    await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    services.Metrics.FrameOut();
                }
            }

            if (_session.FinalBye is { } bye)
            {
                await socket.SendAsync(bye, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                services.Metrics.FrameOut();
            }

            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                var reason = _session.CurrentCloseReason ?? CloseReason.Normal;
                await socket.CloseOutputAsync(reason.Status, reason.Description, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // A write failed or took longer than CloseTimeout: this session ends here; nobody else waits for it.
        }
        finally
        {
            _session.SendEnded();
        }
    }

    /// <summary>
    /// After we sent a close frame ourselves (e.g. 1009), read and discard until the client's close arrives,
    /// bounded by <see cref="Configuration.EdgeOptions.CloseTimeout"/>: closing a TCP socket with unread input resets it,
    /// and the client would never see our close status.
    /// </summary>
    private async Task DrainUntilCloseAsync()
    {
        if (socket.State != WebSocketState.CloseSent)
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferSize);
        try
        {
            using var timeout = new CancellationTokenSource(services.Options.CloseTimeout, services.Time);
            while (socket.State == WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The client did not answer in time or dropped: the caller aborts the socket.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>What a <see cref="ClientSession"/> needs from its transport: ending the connection at once.</summary>
internal interface ISessionTransport
{
    void Abort();
}
