using System.Buffers;
using System.Net.WebSockets;
using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Draining;
using OrleansGateway.EdgeHost.Hosting;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// One WebSocket session: a receive loop that parses and dispatches frames, a send loop that alone writes to
/// the socket from the bounded outbox, and the per-session mailbox cursor that makes delivery gap-free
/// across the resume seam (welcome, replay, then live, de-duplicated and in seq order).
/// </summary>
internal sealed partial class ClientSession : IDrainableSession, ICursorOwner, IExpiringSession
{
    private const int InitialReceiveBufferSize = 4 * 1024;

    private readonly WebSocket _socket;
    private readonly SessionOutbox _outbox;
    private readonly EdgeOptions _options;
    private readonly SessionServices _services;
    private readonly object _gate = new();
    private readonly GracefulUpgradeFeature? _upgrade;
    private bool _failedByWebSocketLayer;

    private readonly StreamCursor _mailbox;

    // Created on the first frame: a new bucket is full, exactly what one created at connect would be by then
    // (memory per idle connection).
    private TokenBucket? _frameBudget;
    private TokenBucket? _byteBudget;
    private ClientBudget? _clientBudget;
    private int _rateLimitedInARow;

    // Created on the first sub (memory per idle connection); guarded by _gate.
    private Dictionary<string, StreamCursor>? _channels;

    // Aborts a send that outlasts CloseTimeout once closing started (what cancelling a WebSocket send does): created
    // only when closing, instead of a CancellationTokenSource per session. Guarded by _gate.
    private ITimer? _closeTimer;
    private bool _sendEnded;

    // Closing, guarded by _gate.
    private CloseReason? _close;
    private byte[]? _finalBye;
    private byte[]? _pendingBye;
    private volatile bool _abandonQueued;
    private bool _dispatching;
    private bool _ended;

    public ClientSession(
        long sessionId, ClientIdentity identity, WebSocket socket, EdgeOptions options, SessionServices services, GracefulUpgradeFeature? upgrade = null)
    {
        SessionId = sessionId;
        _upgrade = upgrade;
        Identity = identity;
        _socket = socket;
        _options = options;
        _services = services;
        _outbox = new SessionOutbox(options.OutboxCapacity, _gate);
        _mailbox = new StreamCursor(
            this,
            after => CallAsync(static (session, after) => session._services.Grains.Client(session.ClientId).ReadSinceAsync(after), after),
            static m => JsonFrameCodec.Message(m.Seq, m.From, m.Data));
    }

    public long SessionId { get; }

    public ClientIdentity Identity { get; private set; }

    public string ClientId => Identity.ClientId;

    public bool IsClosing => _close is not null;

    public int OutboxCapacity => _options.OutboxCapacity;

    public int MaxSubscriptions => _services.Limits.MaxSubscriptionsPerSession;

    /// <summary>The lock under which cursors and close state change.</summary>
    public object Gate => _gate;

    /// <summary>Runs the session to its end. Never throws for a client's misbehaviour or a dropped connection.</summary>
    public async Task RunAsync(long? lastSeq, CancellationToken requestAborted)
    {
        _services.Registry.Add(this);
        _clientBudget = _services.Budgets.Acquire(ClientId);
        var attached = false;
        try
        {
            try
            {
                // Registered before attaching: pushes that race the attach reply are held in _pending, not lost.
                // No grain reference is held across the session's life (memory per connection): rebuilt for the detach.
                // Repeatable: the grain records a session id once.
                var result = await EdgeTracing.AttachAsync(this, lastSeq, static (session, lastSeq) => session.CallAsync(
                    static (session, lastSeq) => session._services.Grains.Client(session.ClientId).AttachAsync(
                        session._services.Edge.EdgeId, session._services.Edge.Reference, session.SessionId, lastSeq, session._services.Limits.MaxSessionsPerClient),
                    lastSeq));
                if (result.SessionLimitReached)
                {
                    // Refused across the cluster (this edge's own count passed before the upgrade): nothing attached.
                    Log.SessionLimitReached(_services.Logger, ClientId, _services.Limits.MaxSessionsPerClient);
                    RequestClose(Protocol.CloseReason.TooManySessions);
                }
                else
                {
                    attached = true;
                    Resume(result, lastSeq is not null);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.AttachFailed(_services.Logger, ex, ClientId);
                RequestClose(Protocol.CloseReason.TryAgainLater);
            }

            var receiving = ReceiveLoopAsync(requestAborted);
            var sending = SendLoopAsync();
            if (await Task.WhenAny(receiving, sending) == sending)
            {
                // We closed: give the client a bounded time to answer the close handshake, then abort.
                try
                {
                    await receiving.WaitAsync(_options.CloseTimeout, _services.Time);
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
                RequestClose(Protocol.CloseReason.Normal, abandonQueued: true);
                await sending;
                await DrainUntilCloseAsync();
            }
        }
        finally
        {
            _services.Registry.Remove(this);
            _services.Budgets.Release(_clientBudget!);
            if (_failedByWebSocketLayer && _upgrade is not null)
            {
                await _upgrade.WaitForPeerCloseAsync(_options.CloseTimeout, _services.Time);
            }

            _socket.Abort();
            _socket.Dispose();
            lock (_gate)
            {
                // From here RequestClose (a drain, a backend disconnect) is a no-op: no close timer is created.
                _close ??= Protocol.CloseReason.Normal;
                _ended = true;
                _closeTimer?.Dispose();
                _closeTimer = null;
            }

            _services.Metrics.SessionClosed(_close ?? Protocol.CloseReason.Normal);
            await _services.Dispatcher.LeaveAllAsync(this);
            if (attached)
            {
                await DetachAsync(_services.Grains.Client(ClientId));
            }
        }
    }

    /// <summary>
    /// Replaces the session's token (in-band refresh): new channel patterns and a new expiry (which
    /// <see cref="TokenExpirySweep"/> reads). Existing subscriptions stay. The caller has checked the token is valid
    /// and for the same client.
    /// </summary>
    public void RefreshIdentity(ClientIdentity identity)
    {
        lock (_gate)
        {
            Identity = identity;
        }
    }

    /// <summary>Closes with <c>bye token_expired</c> once the token's expiry plus the clock skew has passed.</summary>
    /// <returns>True when this call started the close.</returns>
    public bool ExpireIfDue(DateTimeOffset now)
    {
        if (_close is not null || Identity.ExpiresAt + _services.TokenClockSkew > now)
        {
            return false; // the common case, without the lock
        }

        lock (_gate)
        {
            if (_close is not null || Identity.ExpiresAt + _services.TokenClockSkew > now)
            {
                return false; // refreshed meanwhile
            }
        }

        RequestClose(Protocol.CloseReason.TokenExpired);
        return true;
    }

    /// <summary>Drops the connection without a close handshake (drain deadline passed).</summary>
    public void Abort() => _socket.Abort();

    /// <summary>Queues a frame for this session; on overflow the session is closed as a slow consumer.</summary>
    public bool Send(byte[] frame)
    {
        if (_outbox.TryWrite(frame))
        {
            return true;
        }

        if (_close is null)
        {
            _services.Metrics.OutboxOverflow();
            RequestClose(Protocol.CloseReason.SlowConsumer, abandonQueued: true);
        }

        return false;
    }

    /// <summary>
    /// Starts closing: queued frames are flushed (unless <paramref name="abandonQueued"/>), then <c>bye</c> (if the
    /// reason has one), then the close frame, all within <see cref="EdgeOptions.CloseTimeout"/>. Idempotent.
    /// </summary>
    public void RequestClose(CloseReason reason, int? reconnectMs = null, bool abandonQueued = false)
    {
        lock (_gate)
        {
            if (_close is not null)
            {
                return; // already closing, or the session has ended
            }

            _close = reason;
            var bye = reason.ByeCode is { } code ? JsonFrameCodec.Bye(code, reconnectMs) : null;
            if (!abandonQueued && _dispatching)
            {
                // A frame is being handled: its ok/err must reach the client before the bye, or a drain would leave
                // the client unsure whether an accepted message was accepted. The receive loop finishes the close.
                _pendingBye = bye;
                return;
            }

            FinishClose(bye, abandonQueued);
        }
    }

    /// <summary>Queues the bye (or skips what is queued) and lets the send loop close. Under <see cref="_gate"/>.</summary>
    private void FinishClose(byte[]? bye, bool abandonQueued)
    {
        if (abandonQueued || (bye is not null && !_outbox.TryWrite(bye)))
        {
            // A full outbox cannot take the bye: skip what is queued; the client resumes with last_seq.
            _abandonQueued = true;
            _finalBye = bye;
        }

        _outbox.Complete();
        if (!_ended && !_sendEnded && _closeTimer is null)
        {
            _closeTimer = _services.Time.CreateTimer(static s => ((ClientSession)s!).CloseTimedOut(), this, _options.CloseTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The send loop did not finish within <see cref="EdgeOptions.CloseTimeout"/> of closing: abort its write.</summary>
    private void CloseTimedOut()
    {
        lock (_gate)
        {
            if (_sendEnded || _ended)
            {
                return; // the send loop finished in time; the close handshake has its own bound
            }
        }

        _socket.Abort();
    }

    /// <summary>New mailbox messages pushed to this edge; <paramref name="frames"/> holds each already encoded (once per edge).</summary>
    public void Deliver(IReadOnlyList<MailboxMessage> messages, byte[][] frames)
    {
        lock (_gate)
        {
            _mailbox.Deliver(messages, frames);
        }
    }

    /// <summary>New publications on a channel this session subscribed to.</summary>
    public void DeliverPublications(string channel, IReadOnlyList<MailboxMessage> publications, byte[][] frames)
    {
        lock (_gate)
        {
            if (_channels is not null && _channels.TryGetValue(channel, out var cursor))
            {
                cursor.Deliver(publications, frames);
            }
        }
    }

    /// <summary>Registers a channel cursor before the subscription reaches the grain, so racing publications are held.</summary>
    public bool TryAddChannel(string channel)
    {
        lock (_gate)
        {
            _channels ??= new Dictionary<string, StreamCursor>(StringComparer.Ordinal);
            if (_channels.ContainsKey(channel))
            {
                return false;
            }

            _channels[channel] = new StreamCursor(
                this,
                after => CallAsync(static (session, arg) => session._services.Grains.Channel(arg.channel).ReadSinceAsync(arg.after), (channel, after)),
                m => JsonFrameCodec.Publication(channel, m.Seq, m.From, m.Data));
            return true;
        }
    }

    /// <summary>Answers the <c>sub</c> with the current offset, then replays and goes live on the channel.</summary>
    public void StartChannel(string channel, string? id, AttachResult result)
    {
        lock (_gate)
        {
            if (_channels is not null && _channels.TryGetValue(channel, out var cursor))
            {
                cursor.Start(JsonFrameCodec.SubscribeOk(id, result.Seq, result.Recovered), result);
            }
        }
    }

    public bool RemoveChannel(string channel)
    {
        lock (_gate)
        {
            return _channels is not null && _channels.Remove(channel);
        }
    }

    public string[] Channels()
    {
        lock (_gate)
        {
            return _channels is null ? [] : [.. _channels.Keys];
        }
    }

    /// <summary>The last mailbox seq written to this session; false until its <c>welcome</c> went out (still attaching).</summary>
    public bool TryGetMailboxLast(out long last)
    {
        lock (_gate)
        {
            last = _mailbox.Last;
            return _mailbox.IsLive;
        }
    }

    /// <summary>The last offset of <paramref name="channel"/> written to this session; false until its <c>sub</c> was answered.</summary>
    public bool TryGetChannelLast(string channel, out long last)
    {
        lock (_gate)
        {
            last = 0;
            if (_channels is null || !_channels.TryGetValue(channel, out var cursor) || !cursor.IsLive)
            {
                return false;
            }

            last = cursor.Last;
            return true;
        }
    }

    /// <summary>
    /// The answer of a re-attach after a silo crash (<see cref="Cluster.EdgeResync"/>): newer messages follow in order;
    /// if the mailbox lost what this session saw (or refused it), the session is told <c>bye draining</c> and closed
    /// with 1012, so the client reconnects with <c>last_seq</c> and learns <c>recovered:false</c> from its welcome.
    /// </summary>
    /// <returns>False when the session was told to reconnect.</returns>
    public bool ResyncMailbox(AttachResult result, int reconnectMs)
    {
        if (result.SessionLimitReached || !result.Recovered)
        {
            RequestClose(Protocol.CloseReason.Draining, reconnectMs);
            return false;
        }

        lock (_gate)
        {
            _mailbox.CatchUp(result.Replay);
        }

        return true;
    }

    /// <summary>As <see cref="ResyncMailbox"/>, for one channel: <paramref name="lost"/> when the channel lost history this edge saw.</summary>
    public void ResyncChannel(string channel, AttachResult result, bool lost, int reconnectMs)
    {
        if (lost)
        {
            RequestClose(Protocol.CloseReason.Draining, reconnectMs);
            return;
        }

        lock (_gate)
        {
            if (_channels is not null && _channels.TryGetValue(channel, out var cursor) && cursor.IsLive)
            {
                cursor.CatchUp(result.Replay);
            }
        }
    }

    /// <summary>Messages held while a gap is repaired outgrew the outbox: the session is a slow consumer.</summary>
    public void OverflowHeld()
    {
        // Too many messages held out of order behind a gap is a slow consumer too: counted like an outbox overflow.
        if (_close is null)
        {
            _services.Metrics.OutboxOverflow();
            RequestClose(Protocol.CloseReason.SlowConsumer, abandonQueued: true);
        }
    }

    /// <summary>A delivery gap could not be repaired: end the session so the client resumes.</summary>
    public void RepairFailed(Exception? exception)
    {
        Log.GapUnrecoverable(_services.Logger, exception, ClientId);
        RequestClose(Protocol.CloseReason.TryAgainLater);
    }

    /// <summary>
    /// A grain call that may be repeated (it changes nothing the second time), asked again when it has not answered
    /// within <see cref="EdgeOptions.CallTimeout"/> or was rejected by a stopping silo; the third failure is thrown.
    /// </summary>
    private async Task<T> CallAsync<T, TArg>(Func<ClientSession, TArg, Task<T>> call, TArg arg)
    {
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(this, arg).WaitAsync(_options.CallTimeout, _services.Time);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException && attempt < attempts)
            {
                Log.CallRetried(_services.Logger, ex, ClientId, attempt);
            }
        }
    }

    private void Resume(AttachResult result, bool resuming)
    {
        lock (_gate)
        {
            _mailbox.Start(JsonFrameCodec.Welcome(ClientId, result.Seq, result.Recovered, _options.HeartbeatSeconds), result);
        }

        if (resuming)
        {
            _services.Metrics.Resumed(result.Replay.Count, result.Recovered);
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (_close is null)
            {
                // Zero-byte read: an idle session holds no receive buffer (memory per connection).
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (peek.EndOfMessage)
                {
                    // An empty message: not a JSON object.
                    _services.Metrics.FrameIn();
                    Send(JsonFrameCodec.Error(null, ErrorCodes.BadRequest, "empty frame"));
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
                            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxFrameBytes + 1));
                            buffer.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }

                        result = await _socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            return;
                        }

                        length += result.Count;
                        if (length > _options.MaxFrameBytes)
                        {
                            RequestClose(Protocol.CloseReason.FrameTooLarge);
                            return;
                        }
                    }
                    while (!result.EndOfMessage);

                    _services.Metrics.FrameIn();
                    var limits = _services.Limits;
                    _frameBudget ??= new TokenBucket(limits.FramesPerSecond, limits.FrameBurst, _services.Time);
                    _byteBudget ??= new TokenBucket(limits.BytesPerSecond, limits.ByteBurst, _services.Time);
                    if (!_frameBudget.TryTake() | !_byteBudget.TryTake(length) || !_clientBudget!.TryTake(length))
                    {
                        RateLimited(buffer.AsSpan(0, length));
                    }
                    else if (result.MessageType == WebSocketMessageType.Binary)
                    {
                        Send(JsonFrameCodec.Error(null, ErrorCodes.BadRequest, "binary frames are not supported: send JSON text frames"));
                    }
                    else if (JsonFrameCodec.TryParse(buffer.AsSpan(0, length), out var frame, out var error))
                    {
                        _rateLimitedInARow = 0;
                        lock (_gate)
                        {
                            if (_close is not null)
                            {
                                return; // closing: a frame not handled is never acknowledged, so nothing is lost
                            }

                            _dispatching = true;
                        }

                        try
                        {
                            await _services.Dispatcher.DispatchAsync(this, frame!);
                        }
                        finally
                        {
                            lock (_gate)
                            {
                                _dispatching = false;
                                if (_close is not null && !_outbox.IsCompleted)
                                {
                                    FinishClose(_pendingBye, abandonQueued: false); // the reply went first
                                }
                            }
                        }
                    }
                    else
                    {
                        Send(JsonFrameCodec.Error(error));
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

    /// <summary>
    /// Over its frame or byte budget: the frame is not processed (so nothing is acknowledged or lost) and the client
    /// is told <c>err rate_limited</c>; a client that keeps going is closed with <c>bye policy</c>.
    /// </summary>
    private void RateLimited(ReadOnlySpan<byte> frame)
    {
        _services.Metrics.RateLimited();
        if (++_rateLimitedInARow >= _services.Limits.RateLimitedBeforeClose)
        {
            _clientBudget!.CoolDown(_services.Limits.PolicyCoolDown);
            RequestClose(Protocol.CloseReason.Policy);
            return;
        }

        var id = JsonFrameCodec.TryParse(frame, out var parsed, out var error) ? parsed!.Id : error.Id;
        Send(JsonFrameCodec.Error(id, ErrorCodes.RateLimited, "too many frames or bytes per second; slow down"));
    }

    public int ChannelCount
    {
        get
        {
            lock (_gate)
            {
                return _channels?.Count ?? 0;
            }
        }
    }

    /// <summary>
    /// After we sent a close frame ourselves (e.g. 1009), read and discard until the client's close arrives,
    /// bounded by <see cref="EdgeOptions.CloseTimeout"/>: closing a TCP socket with unread input resets it,
    /// and the client would never see our close status.
    /// </summary>
    private async Task DrainUntilCloseAsync()
    {
        if (_socket.State != WebSocketState.CloseSent)
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferSize);
        try
        {
            using var timeout = new CancellationTokenSource(_options.CloseTimeout, _services.Time);
            while (_socket.State == WebSocketState.CloseSent)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
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

    private async Task SendLoopAsync()
    {
        // No cancellation token: completing the outbox wakes the wait, and a write that outlasts CloseTimeout after
        // closing started is ended by the close timer aborting the socket.
        try
        {
            while (!_abandonQueued && await _outbox.WaitToReadAsync())
            {
                while (!_abandonQueued && _outbox.TryRead(out var frame))
                {
                    await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    _services.Metrics.FrameOut();
                }
            }

            if (_finalBye is { } bye)
            {
                await _socket.SendAsync(bye, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                _services.Metrics.FrameOut();
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                var reason = _close ?? Protocol.CloseReason.Normal;
                await _socket.CloseOutputAsync(reason.Status, reason.Description, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // A write failed or took longer than CloseTimeout: this session ends here; nobody else waits for it.
        }
        finally
        {
            lock (_gate)
            {
                _sendEnded = true;
                _closeTimer?.Dispose();
                _closeTimer = null;
            }
        }
    }

    private async Task DetachAsync(IClientGrain grain)
    {
        try
        {
            // Asked again when lost: a session never detached stays counted against the client's session cap.
            await CallAsync(
                static async (session, grain) =>
                {
                    await grain.DetachAsync(session._services.Edge.EdgeId, session.SessionId);
                    return true;
                },
                grain);
        }
        catch (Exception ex)
        {
            // The grain also drops sessions of edges whose lease lapses; a missed detach costs only memory until then.
            Log.DetachFailed(_services.Logger, ex, ClientId);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(212, LogLevel.Information, "Client {ClientId} already has {MaxSessions} session(s) across the cluster; closing the new one with 1013", EventName = "SessionLimitReached")]
        public static partial void SessionLimitReached(ILogger logger, string clientId, int maxSessions);

        [LoggerMessage(200, LogLevel.Warning, "Attaching client {ClientId} to its grain failed; closing with 1013", EventName = "AttachFailed")]
        public static partial void AttachFailed(ILogger logger, Exception exception, string clientId);

        [LoggerMessage(201, LogLevel.Debug, "Detaching client {ClientId} failed", EventName = "DetachFailed")]
        public static partial void DetachFailed(ILogger logger, Exception exception, string clientId);

        [LoggerMessage(203, LogLevel.Information, "A grain call for client {ClientId} failed or did not answer in time (attempt {Attempt}); asking again", EventName = "CallRetried")]
        public static partial void CallRetried(ILogger logger, Exception exception, string clientId, int attempt);

        [LoggerMessage(202, LogLevel.Warning, "A delivery gap for client {ClientId} could not be repaired; closing so it resumes", EventName = "GapUnrecoverable")]
        public static partial void GapUnrecoverable(ILogger logger, Exception? exception, string clientId);
    }
}

/// <summary>What every session shares (one instance per edge), so a session carries one reference, not seven.</summary>
internal sealed record SessionServices(
    GrainRefs Grains,
    SessionRegistry Registry,
    ClientBudgets Budgets,
    LocalEdge Edge,
    FrameDispatcher Dispatcher,
    EdgeMetrics Metrics,
    TimeProvider Time,
    TimeSpan TokenClockSkew,
    LimitsOptions Limits,
    ILogger<ClientSession> Logger);
