using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A client that behaves like our SDKs: it reconnects (to whatever edge <c>pickEdge</c> names) with
/// <c>last_seq</c> after a <c>bye</c> or a dropped connection, honours <c>reconnect_ms</c>, answers the server's close,
/// de-duplicates by seq, and sends every message with an idempotency key (its payload), so what was not acknowledged
/// when a connection ended is sent again after the reconnect, in order, before anything new, and
/// <c>err unavailable</c> is retried: the gateway must take each once. It records every anomaly a test must see: gaps,
/// non-recovered resumes, payloads delivered twice, <c>err</c> answers by code, and which sends were acknowledged.
/// </summary>
internal sealed class ResilientClient : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly string _token;
    private readonly Func<Uri> _pickEdge;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly object _gate = new();
    private readonly SortedDictionary<int, Outgoing> _outstanding = []; // not yet acknowledged, by send order
    private readonly Dictionary<string, long> _sentAt = [];
    private readonly List<string> _received = [];
    private readonly HashSet<string> _receivedSet = [];
    private readonly List<string> _acked = [];
    private readonly List<string> _anomalies = [];
    private readonly List<string> _events = [];
    private readonly Dictionary<string, DateTime> _ackedAt = [];
    private readonly Dictionary<string, int> _errors = [];
    private readonly HashSet<string> _retriedAfterErr = [];
    private ClientWebSocket? _socket;
    private ClientWebSocket? _ready; // welcomed, and what the previous connection left unacknowledged is sent again
    private Task? _loop;
    private long _lastSeq = -1;
    private int _nextId;

    public ResilientClient(string clientId, string token, Func<Uri> pickEdge)
    {
        ClientId = clientId;
        _token = token;
        _pickEdge = pickEdge;
    }

    public string ClientId { get; }

    /// <summary>The edge of the current connection (null while reconnecting).</summary>
    public Uri? Edge { get; private set; }

    public int Connections { get; private set; }

    /// <summary>Frames dropped by seq (a resume's replay overlapping what was already delivered): expected, never passed on.</summary>
    public int Duplicates { get; private set; }

    /// <summary>Payloads delivered to the application a second time (under another seq): the gateway took a message twice.</summary>
    public int RepeatedPayloads { get; private set; }

    /// <summary>Acknowledgements that said <c>dup</c>: a re-sent message the gateway had already taken.</summary>
    public int DupAcks { get; private set; }

    /// <summary>Messages sent again with their key (after a lost connection or <c>err unavailable</c>).</summary>
    public int Resent { get; private set; }

    public int NotRecovered { get; private set; }

    public IReadOnlyList<string> Received { get { lock (_gate) { return [.. _received]; } } }

    public IReadOnlyList<string> Acked { get { lock (_gate) { return [.. _acked]; } } }

    public IReadOnlyList<string> Anomalies { get { lock (_gate) { return [.. _anomalies]; } } }

    /// <summary>
    /// Payloads sent again after <c>err unavailable</c>: later sends may overtake such a retry, so it is exempt from the
    /// order check (not from the once check).
    /// </summary>
    public IReadOnlySet<string> RetriedAfterErr { get { lock (_gate) { return new HashSet<string>(_retriedAfterErr); } } }

    /// <summary><c>err</c> answers to this client's sends, by code.</summary>
    public IReadOnlyDictionary<string, int> Errors { get { lock (_gate) { return new Dictionary<string, int>(_errors); } } }

    public DateTime? AckedAt(string payload) { lock (_gate) { return _ackedAt.TryGetValue(payload, out var at) ? at : null; } }

    /// <summary>Connection events with their times, for explaining a failure.</summary>
    public IReadOnlyList<string> Events { get { lock (_gate) { return [.. _events]; } } }

    public bool IsConnected => _socket?.State == WebSocketState.Open && Edge is not null;

    public async Task StartAsync()
    {
        _loop = Task.Run(RunAsync);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!IsConnected || _lastSeq < 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{ClientId} did not connect.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Sends a direct message if connected (and after whatever is being sent again); it counts as sent only once
    /// acknowledged with ok, and is sent again with its key until then.
    /// </summary>
    public async Task TrySendAsync(string to, string payload)
    {
        var socket = _ready;
        if (socket is null || socket.State != WebSocketState.Open || Edge is null)
        {
            return;
        }

        var outgoing = new Outgoing(Interlocked.Increment(ref _nextId), to, payload);
        lock (_gate)
        {
            _outstanding[outgoing.Order] = outgoing;
        }

        await WriteAsync(socket, outgoing);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket?.Abort();
        if (_loop is not null)
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _socket?.Dispose();
    }

    /// <summary>Writes one send; a failed write leaves it outstanding: the next connection sends it again.</summary>
    private async Task WriteAsync(ClientWebSocket socket, Outgoing outgoing)
    {
        var id = $"m{outgoing.Order}";
        lock (_gate)
        {
            _sentAt[id] = Stopwatch.GetTimestamp();
        }

        await _sendLock.WaitAsync();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.SendAsync(Encoding.UTF8.GetBytes(
                    $$"""{"t":"send","id":"{{id}}","to":"{{outgoing.To}}","key":"{{outgoing.Payload}}","data":"{{outgoing.Payload}}"}"""),
                WebSocketMessageType.Text, true, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The read loop sees the broken connection; the message stays outstanding.
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task RunAsync()
    {
        var delay = TimeSpan.Zero;
        while (!_stop.IsCancellationRequested)
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay).WaitAsync(_stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            delay = TimeSpan.FromMilliseconds(100 + Random.Shared.Next(200)); // default backoff if nothing better is said
            var edge = _pickEdge();
            var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol("ogw.v1.json");
            var query = $"access_token={_token}" + (_lastSeq >= 0 ? $"&last_seq={_lastSeq}" : "");
            try
            {
                using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await socket.ConnectAsync(new UriBuilder(edge) { Path = "/ws", Query = query }.Uri, connect.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or HttpRequestException)
            {
                socket.Dispose();
                continue; // 503 while draining, or the edge is gone: try again (maybe elsewhere)
            }

            _socket = socket;
            Edge = edge;
            Connections++;
            Event($"connected to :{edge.Port} with last_seq {_lastSeq}");
            var reconnectMs = await ReadAsync(socket);
            Event($"disconnected from :{edge.Port} ({socket.CloseStatus?.ToString() ?? socket.State.ToString()}), last_seq {_lastSeq}");
            _ready = null;
            Edge = null;
            if (reconnectMs is { } ms)
            {
                delay = TimeSpan.FromMilliseconds(ms);
            }
        }
    }

    /// <summary>Reads one connection to its end; returns the bye's reconnect_ms if one came.</summary>
    private async Task<int?> ReadAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        int? reconnectMs = null;
        try
        {
            while (true)
            {
                var length = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), _stop.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await AnswerCloseAsync(socket);
                    return reconnectMs;
                }

                using var doc = JsonDocument.Parse(buffer.AsMemory(0, length));
                var frame = doc.RootElement;
                switch (frame.GetProperty("t").GetString())
                {
                    case "welcome":
                        OnWelcome(frame);
                        await ResendOutstandingAsync(socket);
                        _ready = socket;
                        break;
                    case "msg":
                        OnMessage(frame.GetProperty("seq").GetInt64(), frame.GetProperty("data").GetString()!);
                        break;
                    case "ok":
                        OnOk(frame);
                        break;
                    case "err":
                        OnErr(socket, frame);
                        break;
                    case "bye":
                        reconnectMs = frame.TryGetProperty("reconnect_ms", out var ms) ? ms.GetInt32() : null;
                        Event($"bye {frame.GetProperty("code").GetString()}");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            return reconnectMs;
        }
    }

    /// <summary>Completes the close handshake the server began, as a browser does, so the server need not wait it out.</summary>
    private async Task AnswerCloseAsync(ClientWebSocket socket)
    {
        await _sendLock.WaitAsync();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server already gave up on the handshake: nothing left to answer.
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void OnWelcome(JsonElement frame)
    {
        var seq = frame.GetProperty("seq").GetInt64();
        Event($"welcome seq {seq} recovered {frame.GetProperty("recovered").GetBoolean()}");
        if (_lastSeq >= 0 && !frame.GetProperty("recovered").GetBoolean())
        {
            NotRecovered++;
            Anomaly($"recovered:false resuming after {_lastSeq}");
        }

        if (_lastSeq < 0)
        {
            _lastSeq = seq;
        }
    }

    /// <summary>What the previous connection left unacknowledged goes out again with the same keys, in send order.</summary>
    private async Task ResendOutstandingAsync(ClientWebSocket socket)
    {
        List<Outgoing> again;
        lock (_gate)
        {
            again = [.. _outstanding.Values];
            Resent += again.Count;
        }

        foreach (var outgoing in again)
        {
            await WriteAsync(socket, outgoing);
        }
    }

    private void OnOk(JsonElement frame)
    {
        var id = frame.GetProperty("id").GetString()!;
        Answered(id);
        lock (_gate)
        {
            if (!_outstanding.Remove(Order(id), out var outgoing))
            {
                return; // answered before (a re-send overtook it): counted once
            }

            if (frame.TryGetProperty("dup", out var dup) && dup.GetBoolean())
            {
                DupAcks++;
            }

            _acked.Add(outgoing.Payload);
            _ackedAt[outgoing.Payload] = DateTime.UtcNow;
        }
    }

    /// <summary>
    /// Counts the answer by code. <c>unavailable</c> (not taken, or not known to be) is sent again with its key after a
    /// pause; any other code is final and the message is given up (the test decides whether that code was legitimate).
    /// </summary>
    private void OnErr(ClientWebSocket socket, JsonElement frame)
    {
        var code = frame.GetProperty("code").GetString() ?? "?";
        var id = frame.TryGetProperty("id", out var idElement) ? idElement.GetString() : null;
        Outgoing? outgoing = null;
        lock (_gate)
        {
            _errors[code] = _errors.GetValueOrDefault(code) + 1;
            if (id is not null && code != "unavailable")
            {
                _outstanding.Remove(Order(id));
            }
            else if (id is not null)
            {
                _outstanding.TryGetValue(Order(id), out outgoing);
            }
        }

        if (id is not null)
        {
            Answered(id);
        }

        if (outgoing is not null)
        {
            _ = Task.Delay(RetryDelay).ContinueWith(async _ =>
            {
                bool still;
                lock (_gate)
                {
                    still = _outstanding.ContainsKey(outgoing.Order);
                    Resent += still ? 1 : 0;
                    _retriedAfterErr.Add(outgoing.Payload);
                }

                if (still && _ready == socket)
                {
                    await WriteAsync(socket, outgoing); // else the next connection sends it again
                }
            }, TaskScheduler.Default);
        }
    }

    private static int Order(string id) => int.Parse(id.AsSpan(1));

    private void OnMessage(long seq, string payload)
    {
        lock (_gate)
        {
            if (seq <= _lastSeq)
            {
                Duplicates++;
                return;
            }

            if (seq != _lastSeq + 1)
            {
                _anomalies.Add($"gap: seq {seq} after {_lastSeq}");
            }

            _lastSeq = seq;
            if (!_receivedSet.Add(payload))
            {
                RepeatedPayloads++;
                _anomalies.Add($"{payload} delivered again at seq {seq}");
            }

            _received.Add(payload);
        }
    }

    /// <summary>Notes answers that took seconds: a stalled grain shows here first.</summary>
    private void Answered(string id)
    {
        long sentAt;
        lock (_gate)
        {
            if (!_sentAt.Remove(id, out sentAt))
            {
                return;
            }
        }

        if (Stopwatch.GetElapsedTime(sentAt) is { TotalSeconds: > 2 } took)
        {
            Event($"answer to {id} took {took.TotalMilliseconds:F0} ms");
        }
    }

    private void Event(string what)
    {
        lock (_gate)
        {
            _events.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {what}");
        }
    }

    private void Anomaly(string what)
    {
        lock (_gate)
        {
            _anomalies.Add(what);
        }
    }

    private sealed record Outgoing(int Order, string To, string Payload);
}
