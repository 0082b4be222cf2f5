using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OrleansGateway.Client;

/// <summary>
/// A connection to OrleansGateway that survives drains, crashes and token expiry: it reconnects (next URL, backoff with
/// full jitter, or the server's <c>reconnect_ms</c>), resumes with <c>last_seq</c>, re-subscribes channels with
/// <c>since</c>, de-duplicates by seq/off, refreshes its token in-band, and detects dead connections with ping/pong.
/// </summary>
public sealed partial class GatewayClient : IAsyncDisposable
{
    private readonly GatewayClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<DirectMessage> _messages;
    private readonly object _gate = new();
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly LinkedList<Pending> _queue = new(); // waiting for a connection, in order
    private readonly Dictionary<string, ChannelSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource _firstConnect = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientWebSocket? _socket;
    private bool _connected;
    private long _lastSeq = -1;
    private int _nextId;
    private int _urlIndex;
    private Task? _loop;
    private ITimer? _refresh;

    private GatewayClient(GatewayClientOptions options)
    {
        if (options.Urls.Count == 0)
        {
            throw new ArgumentException("At least one URL is required.", nameof(options));
        }

        _options = options;
        _time = options.TimeProvider;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GatewayClient>();
        _messages = Channel.CreateBounded<DirectMessage>(new BoundedChannelOptions(options.MessageBufferCapacity) { SingleReader = true, SingleWriter = true });
    }

    /// <summary>Raised on every state change (from the connection loop; keep handlers short).</summary>
    public event Action<ConnectionState>? StateChanged;

    /// <summary>Raised when a resume reports <c>recovered:false</c>: messages were lost to retention meanwhile.</summary>
    public event Action<RecoveryLost>? RecoveryLost;

    public ConnectionState State { get; private set; } = ConnectionState.Connecting;

    /// <summary>Connections made so far (1 = never reconnected).</summary>
    public int Connections { get; private set; }

    /// <summary>The edge of the current connection, or null while reconnecting.</summary>
    public Uri? CurrentUrl { get; private set; }

    /// <summary>Direct messages, each once, in seq order (one reader).</summary>
    public IAsyncEnumerable<DirectMessage> Messages => _messages.Reader.ReadAllAsync(_stop.Token);

    /// <summary>Connects (retrying as configured) and returns once the first <c>welcome</c> arrived.</summary>
    public static async Task<GatewayClient> ConnectAsync(GatewayClientOptions options, CancellationToken cancellationToken = default)
    {
        var client = new GatewayClient(options);
        options.OnStateChanged?.Invoke(client.State); // Connecting: the initial state is never a change
        client._loop = Task.Run(client.RunGuardedAsync, CancellationToken.None);
        try
        {
            await client._firstConnect.Task.WaitAsync(cancellationToken);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        return client;
    }

    /// <summary>Subscribes to a channel; publications arrive on the returned subscription until it is disposed.</summary>
    public Task<ChannelSubscription> SubscribeAsync(string channel, CancellationToken cancellationToken = default) =>
        SubscribeCoreAsync(channel, since: null, cancellationToken);

    /// <summary>
    /// Subscribes to a channel from offset <paramref name="since"/> (the last offset the app processed, e.g. persisted
    /// <see cref="ChannelSubscription.Offset"/>): the retained publications after it are replayed first, then live ones.
    /// If some of them left retention, <see cref="RecoveryLost"/> is raised for the channel.
    /// </summary>
    public Task<ChannelSubscription> SubscribeAsync(string channel, long since, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(since);
        return SubscribeCoreAsync(channel, since, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync();
        _refresh?.Dispose();
        _socket?.Abort();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        FailAll("closed", "the client was disposed", includeQueued: true);
        _messages.Writer.TryComplete();
        lock (_gate)
        {
            foreach (var subscription in _subscriptions.Values)
            {
                subscription.Complete();
            }
        }

        SetState(ConnectionState.Disconnected);
        _socket?.Dispose();
    }

    internal async Task UnsubscribeAsync(ChannelSubscription subscription)
    {
        lock (_gate)
        {
            if (!_subscriptions.Remove(subscription.Channel))
            {
                return;
            }
        }

        subscription.Complete();
        if (!_stop.IsCancellationRequested)
        {
            try
            {
                await RequestAsync(id => Frame("unsub", id, w => w.WriteString("ch", subscription.Channel)), null, CancellationToken.None);
            }
            catch (GatewayException)
            {
                // Not connected or closing: the server drops the subscription with the session anyway.
            }
        }
    }

    private async Task<ChannelSubscription> SubscribeCoreAsync(string channel, long? since, CancellationToken cancellationToken, bool presence = false)
    {
        var subscription = new ChannelSubscription(this, channel, since, presence);
        lock (_gate)
        {
            if (!_subscriptions.TryAdd(channel, subscription))
            {
                throw new GatewayException("bad_request", $"already subscribed to {channel}");
            }
        }

        try
        {
            await RequestAsync(
                id => Frame("sub", id, w =>
                {
                    w.WriteString("ch", channel);
                    if (since is { } offset)
                    {
                        w.WriteNumber("since", offset);
                    }

                    WritePresence(w, subscription);
                }),
                reply => subscription.OnSubscribed(reply, RecoveryLost),
                cancellationToken);
        }
        catch
        {
            lock (_gate)
            {
                _subscriptions.Remove(channel);
            }

            throw;
        }

        return subscription;
    }

    private async Task RequestAsync(Func<string, byte[]> build, Action<JsonElement>? onOk, CancellationToken cancellationToken,
        string? key = null, TimeSpan? deadline = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var order = Interlocked.Increment(ref _nextId);
        var id = $"r{order}";
        var pending = new Pending(id, build(id), onOk) { Key = key, Order = order };
        var timeLimit = deadline ?? _options.RequestTimeout;
        ClientWebSocket? sendNow = null;
        lock (_gate)
        {
            if (_stop.IsCancellationRequested)
            {
                throw new GatewayException("closed", "the client was disposed");
            }

            if (_connected && _queue.Count == 0)
            {
                pending.Sent = true;
                sendNow = _socket;
            }
            else if (_queue.Count >= _options.MaxQueuedRequests)
            {
                throw new GatewayException("queue_full", $"{_options.MaxQueuedRequests} requests are already waiting for a connection");
            }
            else
            {
                _queue.AddLast(pending);
            }

            _pending[id] = pending;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeLimit);
        using var registration = timeout.Token.Register(() =>
        {
            lock (_gate)
            {
                _pending.Remove(id);
                if (!pending.Sent)
                {
                    _queue.Remove(pending); // never sent, and its slot is free again
                }
            }

            pending.Completion.TrySetException(cancellationToken.IsCancellationRequested
                ? new OperationCanceledException(cancellationToken)
                : new GatewayException("timeout", key is null
                    ? $"no answer within {timeLimit}"
                    : $"not taken within its {timeLimit} deadline (key {key}, {pending.Retries} unavailable answers)"));
        });

        if (sendNow is not null)
        {
            await TrySendAsync(sendNow, pending.Frame);
        }

        await pending.Completion.Task;
    }

    private async Task RunGuardedAsync()
    {
        try
        {
            await RunAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.LoopFailed(_logger, ex);
            throw;
        }
        finally
        {
            Log.LoopEnded(_logger, _stop.IsCancellationRequested);
        }
    }

    private async Task RunAsync()
    {
        var attempt = 0;
        while (!_stop.IsCancellationRequested)
        {
            SetState(Connections == 0 ? ConnectionState.Connecting : ConnectionState.Reconnecting);
            var url = _options.Urls[_urlIndex % _options.Urls.Count];
            Log.Connecting(_logger, url);
            TimeSpan delay;
            var socket = new ClientWebSocket();
            try
            {
                var token = await _options.GetTokenAsync(_stop.Token);
                ScheduleRefresh(token);
                socket.Options.AddSubProtocol("ogw.v1.json");
                var query = $"access_token={Uri.EscapeDataString(token)}" + (_lastSeq >= 0 ? $"&last_seq={_lastSeq}" : "");
                using var connect = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                connect.CancelAfter(TimeSpan.FromSeconds(10));
                await socket.ConnectAsync(new UriBuilder(url) { Query = query }.Uri, connect.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                // Disposed during the attempt: how the attempt ended (cancelled, refused) no longer matters.
                socket.Dispose();
                break;
            }
            catch (Exception ex)
            {
                // Any failure to connect (refused, 503, timeout, TLS, DNS) is retried elsewhere after a backoff.
                Log.ConnectFailed(_logger, url, $"{ex.GetType().Name}: {ex.Message}");
                socket.Dispose();
                _urlIndex++;
                await DelayAsync(Backoff(attempt++));
                continue;
            }

            _socket = socket;
            CurrentUrl = url;
            Connections++;
            var (reconnectMs, welcomed) = await ReadAsync(socket);
            lock (_gate)
            {
                _connected = false;
            }

            CurrentUrl = null;
            RequeueKeyed(); // sent again with the same keys on the next connection, before anything newer
            FailAll("connection_lost", "the connection was lost before an answer; the request may have been accepted", includeQueued: false);
            socket.Abort();
            socket.Dispose();
            if (_stop.IsCancellationRequested)
            {
                break;
            }

            _urlIndex++;
            attempt = welcomed ? 0 : attempt + 1;
            delay = reconnectMs is { } ms ? TimeSpan.FromMilliseconds(ms) : Backoff(attempt);
            Log.Disconnected(_logger, url, delay);
            await DelayAsync(delay);
            Log.Woke(_logger, _stop.IsCancellationRequested);
        }
    }

    /// <summary>Reads one connection to its end; returns the bye's reconnect_ms (if any) and whether it was welcomed.</summary>
    private async Task<(int? ReconnectMs, bool Welcomed)> ReadAsync(ClientWebSocket socket)
    {
        int? reconnectMs = null;
        var welcomed = false;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var pingSent = false;
            while (true)
            {
                var receive = ReceiveMessageAsync(socket, buffer);
                while (true)
                {
                    // Never cancel a receive (that aborts the socket): race it with a timer instead.
                    var wait = pingSent ? _options.HeartbeatTimeout : _options.HeartbeatInterval;
                    if (await Task.WhenAny(receive, Task.Delay(wait, _time, _stop.Token)) == receive)
                    {
                        break;
                    }

                    if (_stop.IsCancellationRequested)
                    {
                        return (null, welcomed);
                    }

                    if (pingSent)
                    {
                        Log.HeartbeatLost(_logger, wait);
                        return (null, welcomed); // silently dead: the caller aborts and reconnects
                    }

                    pingSent = true;
                    await TrySendAsync(socket, Encoding.UTF8.GetBytes("""{"t":"ping"}"""));
                }

                var (buffered, length) = await receive;
                buffer = buffered;
                if (length < 0)
                {
                    return (reconnectMs, welcomed);
                }

                pingSent = false;
                using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
                var frame = document.RootElement;
                switch (frame.GetProperty("t").GetString())
                {
                    case "welcome":
                        welcomed = true;
                        await OnWelcomeAsync(socket, frame);
                        break;
                    case "msg":
                        var seq = frame.GetProperty("seq").GetInt64();
                        if (seq > _lastSeq)
                        {
                            _lastSeq = seq;
                            await _messages.Writer.WriteAsync(
                                new DirectMessage(seq, frame.GetProperty("from").GetString()!, frame.GetProperty("data").Clone()), _stop.Token);
                        }

                        break;
                    case "pub":
                        await OnPublicationAsync(frame);
                        break;
                    case "ok":
                    case "err":
                        OnReply(frame);
                        break;
                    case "join":
                    case "leave":
                        await OnPresenceAsync(frame);
                        break;
                    case "bye":
                        reconnectMs = frame.TryGetProperty("reconnect_ms", out var ms) ? ms.GetInt32() : null;
                        Log.Bye(_logger, frame.GetProperty("code").GetString());
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or JsonException or ObjectDisposedException)
        {
            return (reconnectMs, welcomed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task OnWelcomeAsync(ClientWebSocket socket, JsonElement welcome)
    {
        var seq = welcome.GetProperty("seq").GetInt64();
        var recovered = welcome.GetProperty("recovered").GetBoolean();
        if (_lastSeq >= 0 && !recovered)
        {
            RecoveryLost?.Invoke(new RecoveryLost(null));
        }

        if (_lastSeq < 0 || _lastSeq > seq)
        {
            // A fresh start, or a mailbox that lost its state: follow the server's numbering from here.
            _lastSeq = seq;
        }

        // Re-subscribe (with since) before anything queued goes out, then flush the queue in order.
        ChannelSubscription[] subscriptions;
        List<Pending> queued;
        lock (_gate)
        {
            subscriptions = [.. _subscriptions.Values.Where(s => s.Confirmed)];
            queued = [.. _queue];
            _queue.Clear();
            foreach (var pending in queued)
            {
                pending.Sent = true;
            }

            _connected = true;
        }

        foreach (var subscription in subscriptions)
        {
            var id = $"s{Interlocked.Increment(ref _nextId)}";
            var pending = new Pending(id, Frame("sub", id, w => { w.WriteString("ch", subscription.Channel); w.WriteNumber("since", subscription.Offset); WritePresence(w, subscription); }),
                reply => subscription.OnSubscribed(reply, RecoveryLost)) { Sent = true };
            lock (_gate)
            {
                _pending[id] = pending;
            }

            await TrySendAsync(socket, pending.Frame);
        }

        foreach (var pending in queued)
        {
            await TrySendAsync(socket, pending.Frame);
        }

        SetState(ConnectionState.Connected);
        _firstConnect.TrySetResult();
    }

    private async Task OnPublicationAsync(JsonElement frame)
    {
        ChannelSubscription? subscription;
        lock (_gate)
        {
            _subscriptions.TryGetValue(frame.GetProperty("ch").GetString()!, out subscription);
        }

        if (subscription is not null)
        {
            await subscription.OfferAsync(
                new Publication(subscription.Channel, frame.GetProperty("off").GetInt64(), frame.GetProperty("from").GetString()!, frame.GetProperty("data").Clone()),
                _stop.Token);
        }
    }

    private void OnReply(JsonElement frame)
    {
        if (!frame.TryGetProperty("id", out var idElement) || idElement.GetString() is not { } id)
        {
            return;
        }

        Pending? pending;
        lock (_gate)
        {
            if (_pending.Remove(id, out pending) is false)
            {
                return;
            }
        }

        if (RetryIfUnavailable(pending, frame))
        {
            return;
        }

        if (frame.GetProperty("t").GetString() == "ok")
        {
            pending!.OnOk?.Invoke(frame); // in the read loop: ordered before the frames that follow it
            pending.Completion.TrySetResult();
        }
        else
        {
            pending!.Completion.TrySetException(new GatewayException(
                frame.GetProperty("code").GetString() ?? "error", frame.TryGetProperty("msg", out var msg) ? msg.GetString() ?? "" : ""));
        }
    }

    private void FailAll(string code, string message, bool includeQueued)
    {
        List<Pending> failed;
        lock (_gate)
        {
            failed = [.. _pending.Values.Where(p => p.Sent || includeQueued)];
            foreach (var pending in failed)
            {
                _pending.Remove(pending.Id);
            }

            if (includeQueued)
            {
                _queue.Clear();
            }
        }

        foreach (var pending in failed)
        {
            pending.Completion.TrySetException(new GatewayException(code, message));
        }
    }

    private async Task TrySendAsync(ClientWebSocket socket, byte[] frame)
    {
        await _sendLock.WaitAsync();
        try
        {
            using var timeout = new CancellationTokenSource(_options.RequestTimeout);
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The read loop sees the broken connection and reconnects; sent requests then fail as connection_lost.
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Refreshes the token in-band <see cref="GatewayClientOptions.TokenRefreshMargin"/> before it expires.</summary>
    private void ScheduleRefresh(string token)
    {
        _refresh?.Dispose();
        if (Jwt.ExpiresAt(token) is not { } expires)
        {
            return;
        }

        var due = expires - _options.TokenRefreshMargin - _time.GetUtcNow();
        _refresh = _time.CreateTimer(static state => _ = ((GatewayClient)state!).RefreshAsync(), this,
            due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private async Task RefreshAsync()
    {
        try
        {
            var token = await _options.GetTokenAsync(_stop.Token);
            await RequestAsync(id => Frame("auth", id, w => w.WriteString("token", token)), null, _stop.Token);
            ScheduleRefresh(token);
            Log.TokenRefreshed(_logger);
        }
        catch (Exception ex) when (ex is GatewayException or OperationCanceledException)
        {
            // The server will end the session with bye token_expired; the reconnect fetches a fresh token.
            Log.TokenRefreshFailed(_logger, ex.Message);
        }
    }

    private TimeSpan Backoff(int attempt) =>
        Backoff(attempt, _options.ReconnectBaseDelay, _options.ReconnectMaxDelay, _options.Jitter());

    /// <summary>
    /// The delay before reconnect attempt <paramref name="attempt"/> (0-based) with full jitter: <paramref name="jitter"/>
    /// (uniform in [0, 1)) times min(<paramref name="maxDelay"/>, <paramref name="baseDelay"/> · 2^attempt).
    /// </summary>
    internal static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, double jitter)
    {
        var cap = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 0, 30)));
        return TimeSpan.FromMilliseconds(Math.Clamp(jitter, 0, 1) * cap);
    }

    private async Task DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Disposed while waiting.
        }
    }

    private void SetState(ConnectionState state)
    {
        Log.State(_logger, state);
        if (State != state)
        {
            State = state;
            _options.OnStateChanged?.Invoke(state);
            StateChanged?.Invoke(state);
        }
    }

    private static async Task<(byte[] Buffer, int Length)> ReceiveMessageAsync(ClientWebSocket socket, byte[] buffer)
    {
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            var result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (buffer, -1);
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return (buffer, length);
            }
        }
    }

    private static byte[] Frame(string type, string id, Action<Utf8JsonWriter> body)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("t", type);
            writer.WriteString("id", id);
            body(writer);
            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static void WriteData(Utf8JsonWriter writer, JsonElement data)
    {
        writer.WritePropertyName("data");
        data.WriteTo(writer);
    }

    private sealed class Pending(string id, byte[] frame, Action<JsonElement>? onOk)
    {
        public string Id { get; } = id;

        public byte[] Frame { get; } = frame;

        public Action<JsonElement>? OnOk { get; } = onOk;

        public bool Sent { get; set; }

        /// <summary>The idempotency key of a <c>send</c>/<c>pub</c>/<c>up</c>: safe to send again until taken or past its deadline.</summary>
        public string? Key { get; init; }

        /// <summary>Creation order: requests sent again go out in it, before newer ones.</summary>
        public int Order { get; init; }

        /// <summary><c>err unavailable</c> answers so far (the retry backoff grows with them).</summary>
        public int Retries { get; set; }

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(8, LogLevel.Critical, "The connection loop failed; the client no longer reconnects", EventName = "LoopFailed")]
        public static partial void LoopFailed(ILogger logger, Exception exception);

        [LoggerMessage(9, LogLevel.Debug, "The connection loop ended (disposed: {Disposed})", EventName = "LoopEnded")]
        public static partial void LoopEnded(ILogger logger, bool disposed);

        [LoggerMessage(11, LogLevel.Debug, "State {State}", EventName = "State")]
        public static partial void State(ILogger logger, ConnectionState state);

        [LoggerMessage(10, LogLevel.Debug, "Reconnect delay over (stopping: {Stopping})", EventName = "Woke")]
        public static partial void Woke(ILogger logger, bool stopping);

        [LoggerMessage(7, LogLevel.Debug, "Connecting to {Url}", EventName = "Connecting")]
        public static partial void Connecting(ILogger logger, Uri url);

        [LoggerMessage(1, LogLevel.Debug, "Connecting to {Url} failed: {Reason}", EventName = "ConnectFailed")]
        public static partial void ConnectFailed(ILogger logger, Uri url, string reason);

        [LoggerMessage(2, LogLevel.Information, "Disconnected from {Url}; reconnecting in {Delay}", EventName = "Disconnected")]
        public static partial void Disconnected(ILogger logger, Uri url, TimeSpan delay);

        [LoggerMessage(3, LogLevel.Warning, "No frame within {Timeout} after a ping: the connection is dead", EventName = "HeartbeatLost")]
        public static partial void HeartbeatLost(ILogger logger, TimeSpan timeout);

        [LoggerMessage(4, LogLevel.Information, "Server said bye: {Code}", EventName = "Bye")]
        public static partial void Bye(ILogger logger, string? code);

        [LoggerMessage(5, LogLevel.Debug, "Token refreshed in-band", EventName = "TokenRefreshed")]
        public static partial void TokenRefreshed(ILogger logger);

        [LoggerMessage(6, LogLevel.Warning, "In-band token refresh failed: {Reason}", EventName = "TokenRefreshFailed")]
        public static partial void TokenRefreshFailed(ILogger logger, string reason);
    }
}
