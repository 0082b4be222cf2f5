using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Draining;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// One client session (SignalR's <c>HubConnectionContext</c>, Centrifuge's <c>client.go</c>): its identity, its
/// bounded outbox and the close state machine around it (queued frames, then <c>bye</c>, then the close frame, within
/// <see cref="EdgeOptions.CloseTimeout"/>), its rate limits, and its attach and detach. The socket loops are the
/// <see cref="SessionTransport"/>'s; the mailbox and channel cursors are its <see cref="Streams"/>.
/// </summary>
/// <remarks>
/// The lock is this object (handed to nothing but its own <see cref="SessionOutbox"/>): close state and outbox change
/// under it. A separate lock object would cost every connection 24 bytes. Over 300 lines with its comments: the close
/// state machine (request, deferred bye, finish, timer, end) reads best in one place.
/// </remarks>
internal sealed partial class ClientSession : IDrainableSession, IExpiringSession, IStreamSink
{
    private readonly ISessionTransport _transport;
    private readonly SessionServices _services;

    // Created on the first frame: a new bucket is full, exactly what one created at connect would be by then
    // (memory per idle connection).
    private TokenBucket? _frameBudget;
    private TokenBucket? _byteBudget;
    private ClientBudget? _clientBudget;
    private int _rateLimitedInARow;
    private bool _attached;

    // Aborts a send that outlasts CloseTimeout once closing started (what cancelling a WebSocket send does): created
    // only when closing, instead of a CancellationTokenSource per session. Guarded by this.
    private ITimer? _closeTimer;
    private bool _sendEnded;

    // Closing, guarded by this.
    private CloseReason? _close;
    private byte[]? _finalBye;
    private byte[]? _pendingBye;
    private volatile bool _abandonQueued;
    private bool _dispatching;
    private bool _ended;

    public ClientSession(long sessionId, ClientIdentity identity, ISessionTransport transport, SessionServices services)
    {
        SessionId = sessionId;
        Identity = identity;
        _transport = transport;
        _services = services;
        Outbox = new SessionOutbox(services.Options.OutboxCapacity, this);
        Streams = new SessionStreams(this, services.History);
    }

    public long SessionId { get; }

    public ClientIdentity Identity { get; private set; }

    public string ClientId => Identity.ClientId;

    /// <summary>The session's mailbox and channel cursors.</summary>
    public SessionStreams Streams { get; }

    public bool IsClosing => _close is not null;

    public int OutboxCapacity => _services.Options.OutboxCapacity;

    /// <summary>The frames waiting for the transport's send loop (its only reader).</summary>
    internal SessionOutbox Outbox { get; }

    /// <summary>Why the session closes (null while open): the status of the close frame.</summary>
    internal CloseReason? CurrentCloseReason => _close;

    /// <summary>True when queued frames are skipped: the send loop writes only <see cref="FinalBye"/>, then closes.</summary>
    internal bool AbandonQueued => _abandonQueued;

    /// <summary>The <c>bye</c> the full outbox could not take, written by the send loop last.</summary>
    internal byte[]? FinalBye => _finalBye;

    /// <summary>
    /// Registers the session and attaches it to its client grain, then writes <c>welcome</c> and the replay; a refused
    /// or failed attach starts the close (1013). Registered before attaching: pushes that race the attach reply are
    /// held by the mailbox cursor, not lost.
    /// </summary>
    public async Task AttachAsync(long? lastSeq)
    {
        _services.Registry.Add(this);
        _clientBudget = _services.Budgets.Acquire(ClientId);
        try
        {
            // No grain reference is held across the session's life (memory per connection): rebuilt for the detach.
            // Repeatable: the grain records a session id once.
            var result = await EdgeTracing.AttachAsync(this, lastSeq, static (session, lastSeq) => session._services.Calls.RepeatableAsync(
                static a => a.session._services.Grains.Client(a.session.ClientId).AttachAsync(
                    a.session._services.Edge.EdgeId, a.session._services.Edge.Reference, a.session.SessionId, a.lastSeq, a.session._services.Limits.MaxSessionsPerClient),
                (session, lastSeq),
                session.ClientId));
            if (result.SessionLimitReached)
            {
                // Refused across the cluster (this edge's own count passed before the upgrade): nothing attached.
                Log.SessionLimitReached(_services.Logger, ClientId, _services.Limits.MaxSessionsPerClient);
                RequestClose(Protocol.CloseReason.TooManySessions);
                return;
            }

            _attached = true;
            Streams.StartMailbox(JsonFrameCodec.Welcome(ClientId, result.Seq, result.Recovered, _services.Options.HeartbeatSeconds), result);
            if (lastSeq is not null)
            {
                _services.Metrics.Resumed(result.Replay.Count, result.Recovered);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.AttachFailed(_services.Logger, ex, ClientId);
            RequestClose(Protocol.CloseReason.TryAgainLater);
        }
    }

    /// <summary>The transport is done with the socket: no more deliveries are routed here.</summary>
    internal void Unregister()
    {
        _services.Registry.Remove(this);
        if (_clientBudget is not null)
        {
            _services.Budgets.Release(_clientBudget);
        }
    }

    /// <summary>After the socket is gone: leaves the session's channels and detaches it from its grain.</summary>
    internal async Task EndAsync()
    {
        lock (this)
        {
            // From here RequestClose (a drain, a backend disconnect) is a no-op: no close timer is created.
            _close ??= Protocol.CloseReason.Normal;
            _ended = true;
            _closeTimer?.Dispose();
            _closeTimer = null;
        }

        _services.Metrics.SessionClosed(_close ?? Protocol.CloseReason.Normal);
        await _services.Channels.LeaveAllAsync(Streams);
        if (_attached)
        {
            await DetachAsync();
        }
    }

    /// <summary>
    /// Replaces the session's token (in-band refresh): new channel patterns and a new expiry (which
    /// <see cref="TokenExpirySweep"/> reads). Existing subscriptions stay. The caller has checked the token is valid
    /// and for the same client.
    /// </summary>
    public void RefreshIdentity(ClientIdentity identity)
    {
        lock (this)
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

        lock (this)
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
    public void Abort() => _transport.Abort();

    /// <summary>Queues a frame for this session; on overflow the session is closed as a slow consumer.</summary>
    public bool Send(byte[] frame)
    {
        if (Outbox.TryWrite(frame))
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
    /// <returns>True when this call started the close; false when the session was already closing or had ended.</returns>
    public bool RequestClose(CloseReason reason, int? reconnectMs = null, bool abandonQueued = false)
    {
        lock (this)
        {
            if (_close is not null)
            {
                return false; // already closing, or the session has ended
            }

            _close = reason;
            var bye = reason.ByeCode is { } code ? JsonFrameCodec.Bye(code, reconnectMs) : null;
            if (!abandonQueued && _dispatching)
            {
                // A frame is being handled: its ok/err must reach the client before the bye, or a drain would leave
                // the client unsure whether an accepted message was accepted. EndDispatch finishes the close.
                _pendingBye = bye;
                return true;
            }

            FinishClose(bye, abandonQueued);
            return true;
        }
    }

    void IStreamSink.RequestClose(CloseReason reason, int? reconnectMs, bool abandonQueued) => RequestClose(reason, reconnectMs, abandonQueued);

    /// <summary>
    /// A parsed frame is about to be dispatched; false when closing (the frame is not handled, so never acknowledged,
    /// so nothing is lost). Until <see cref="EndDispatch"/>, a close waits for the frame's reply.
    /// </summary>
    internal bool TryBeginDispatch()
    {
        _rateLimitedInARow = 0;
        lock (this)
        {
            if (_close is not null)
            {
                return false;
            }

            _dispatching = true;
            return true;
        }
    }

    /// <summary>The frame's reply is queued: a close requested meanwhile queues its <c>bye</c> now, after the reply.</summary>
    internal void EndDispatch()
    {
        lock (this)
        {
            _dispatching = false;
            if (_close is not null && !Outbox.IsCompleted)
            {
                FinishClose(_pendingBye, abandonQueued: false); // the reply went first
            }
        }
    }

    /// <summary>The send loop has ended: the close timer has nothing left to abort.</summary>
    internal void SendEnded()
    {
        lock (this)
        {
            _sendEnded = true;
            _closeTimer?.Dispose();
            _closeTimer = null;
        }
    }

    /// <summary>
    /// Takes a received frame from the session's budgets. Over its frame or byte budget the frame is not processed (so
    /// nothing is acknowledged or lost) and the client is told <c>err rate_limited</c>; a client that keeps going is
    /// closed with <c>bye policy</c>.
    /// </summary>
    /// <returns>False when the frame must not be processed.</returns>
    internal bool TryTakeBudget(ReadOnlySpan<byte> frame)
    {
        var limits = _services.Limits;
        _frameBudget ??= new TokenBucket(limits.FramesPerSecond, limits.FrameBurst, _services.Time);
        _byteBudget ??= new TokenBucket(limits.BytesPerSecond, limits.ByteBurst, _services.Time);
        if (_frameBudget.TryTake() & _byteBudget.TryTake(frame.Length) && _clientBudget!.TryTake(frame.Length))
        {
            return true;
        }

        _services.Metrics.RateLimited();
        if (++_rateLimitedInARow >= limits.RateLimitedBeforeClose)
        {
            _clientBudget!.CoolDown(limits.PolicyCoolDown);
            RequestClose(Protocol.CloseReason.Policy);
            return false;
        }

        var id = JsonFrameCodec.TryParse(frame, out var parsed, out var error) ? parsed!.Id : error.Id;
        Send(JsonFrameCodec.Error(id, ErrorCodes.RateLimited, "too many frames or bytes per second; slow down"));
        return false;
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

    /// <summary>Queues the bye (or skips what is queued) and lets the send loop close. Under this object's lock.</summary>
    private void FinishClose(byte[]? bye, bool abandonQueued)
    {
        if (abandonQueued || (bye is not null && !Outbox.TryWrite(bye)))
        {
            // A full outbox cannot take the bye: skip what is queued; the client resumes with last_seq.
            _abandonQueued = true;
            _finalBye = bye;
        }

        Outbox.Complete();
        if (!_ended && !_sendEnded && _closeTimer is null)
        {
            _closeTimer = _services.Time.CreateTimer(static s => ((ClientSession)s!).CloseTimedOut(), this, _services.Options.CloseTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The send loop did not finish within <see cref="EdgeOptions.CloseTimeout"/> of closing: abort its write.</summary>
    private void CloseTimedOut()
    {
        lock (this)
        {
            if (_sendEnded || _ended)
            {
                return; // the send loop finished in time; the close handshake has its own bound
            }
        }

        _transport.Abort();
    }

    private async Task DetachAsync()
    {
        try
        {
            // Asked again when lost: a session never detached stays counted against the client's session cap.
            await _services.Calls.RepeatableAsync(
                static async session =>
                {
                    var grain = session._services.Grains.Client(session.ClientId);
                    if (session._services.Events?.Produces(LifecycleEventKinds.Disconnected) == true)
                    {
                        // Only then: silos of an earlier release do not know this call (IClientSessionGrain).
                        var close = session._close ?? Protocol.CloseReason.Normal;
                        await grain.DetachAsync(session._services.Edge.EdgeId, session.SessionId, close.EventReason, (int)close.Status);
                    }
                    else
                    {
                        await grain.DetachAsync(session._services.Edge.EdgeId, session.SessionId);
                    }

                    return true;
                },
                this,
                ClientId);
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

        [LoggerMessage(202, LogLevel.Warning, "A delivery gap for client {ClientId} could not be repaired; closing so it resumes", EventName = "GapUnrecoverable")]
        public static partial void GapUnrecoverable(ILogger logger, Exception? exception, string clientId);
    }
}
