using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A client that behaves like our SDKs: it reconnects (to whatever edge <c>pickEdge</c> names) with
/// <c>last_seq</c> after a <c>bye</c> or a dropped connection, honours <c>reconnect_ms</c>, de-duplicates by seq,
/// and records every anomaly a test must see: gaps, non-recovered resumes, and which sends were acknowledged.
/// </summary>
internal sealed class ResilientClient : IAsyncDisposable
{
    private readonly string _token;
    private readonly Func<Uri> _pickEdge;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, string> _pending = new();
    private readonly ConcurrentDictionary<string, long> _sentAt = new();
    private readonly object _gate = new();
    private readonly List<string> _received = [];
    private readonly List<string> _acked = [];
    private readonly List<string> _anomalies = [];
    private readonly List<string> _events = [];
    private readonly Dictionary<string, DateTime> _ackedAt = [];
    private ClientWebSocket? _socket;
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

    public int Duplicates { get; private set; }

    public int NotRecovered { get; private set; }

    public IReadOnlyList<string> Received { get { lock (_gate) { return [.. _received]; } } }

    public IReadOnlyList<string> Acked { get { lock (_gate) { return [.. _acked]; } } }

    public IReadOnlyList<string> Anomalies { get { lock (_gate) { return [.. _anomalies]; } } }

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

    /// <summary>Sends a direct message if connected; it counts as sent only once acknowledged with ok.</summary>
    public async Task TrySendAsync(string to, string payload)
    {
        var socket = _socket;
        if (socket is null || socket.State != WebSocketState.Open || Edge is null)
        {
            return;
        }

        var id = $"m{Interlocked.Increment(ref _nextId)}";
        _pending[id] = payload;
        _sentAt[id] = Stopwatch.GetTimestamp();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"t":"send","id":"{{id}}","to":"{{to}}","data":"{{payload}}"}"""),
                WebSocketMessageType.Text, true, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _pending.TryRemove(id, out _); // never acknowledged: not a promise the gateway made
        }
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
            Edge = null;
            foreach (var id in _pending.Keys)
            {
                _pending.TryRemove(id, out _); // unacknowledged sends of the lost connection
            }

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
                    return reconnectMs;
                }

                using var doc = JsonDocument.Parse(buffer.AsMemory(0, length));
                var frame = doc.RootElement;
                switch (frame.GetProperty("t").GetString())
                {
                    case "welcome":
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

                        break;
                    case "msg":
                        OnMessage(frame.GetProperty("seq").GetInt64(), frame.GetProperty("data").GetString()!);
                        break;
                    case "ok":
                        Answered(frame.GetProperty("id").GetString()!);
                        if (_pending.TryRemove(frame.GetProperty("id").GetString()!, out var payload))
                        {
                            lock (_gate)
                            {
                                _acked.Add(payload);
                                _ackedAt[payload] = DateTime.UtcNow;
                            }
                        }

                        break;
                    case "err":
                        if (frame.TryGetProperty("id", out var errId))
                        {
                            Answered(errId.GetString()!);
                            _pending.TryRemove(errId.GetString()!, out _);
                        }

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

    private void OnMessage(long seq, string payload)
    {
        lock (_gate)
        {
            if (seq <= _lastSeq)
            {
                Duplicates++;
            }
            else if (seq == _lastSeq + 1)
            {
                _lastSeq = seq;
                _received.Add(payload);
            }
            else
            {
                _anomalies.Add($"gap: seq {seq} after {_lastSeq}");
                _lastSeq = seq;
                _received.Add(payload);
            }
        }
    }

    /// <summary>Notes answers that took seconds: a stalled grain shows here first.</summary>
    private void Answered(string id)
    {
        if (_sentAt.TryRemove(id, out var sentAt) && Stopwatch.GetElapsedTime(sentAt) is { TotalSeconds: > 2 } took)
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
}

/// <summary>Pairs of resilient clients sending to each other at a steady rate; accounts for every message.</summary>
internal sealed class Traffic : IAsyncDisposable
{
    private readonly List<ResilientClient> _clients;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _marks = [];
    private Task? _driver;

    private Traffic(List<ResilientClient> clients) => _clients = clients;

    public IReadOnlyList<ResilientClient> Clients => _clients;

    public static async Task<Traffic> StartAsync(GatewayCluster cluster, int clients, Func<int, Func<Uri>> pickEdge, string run)
    {
        var list = Enumerable.Range(0, clients)
            .Select(i => new ResilientClient($"t{i}-{run}", cluster.Tokens.Hs256($"t{i}-{run}"), pickEdge(i)))
            .ToList();
        foreach (var batch in list.Chunk(20))
        {
            await Task.WhenAll(batch.Select(c => c.StartAsync()));
        }

        return new Traffic(list);
    }

    /// <summary>Each client sends to its neighbour every <paramref name="period"/>.</summary>
    public void Run(TimeSpan period)
    {
        _driver = Task.Run(async () =>
        {
            var n = 0;
            while (!_stop.IsCancellationRequested)
            {
                n++;
                for (var i = 0; i < _clients.Count; i++)
                {
                    var to = _clients[(i + 1) % _clients.Count];
                    await _clients[i].TrySendAsync(to.ClientId, $"{_clients[i].ClientId}#{n}");
                }

                await Task.Delay(period);
            }
        });
    }

    public async Task StopSendingAsync()
    {
        await _stop.CancelAsync();
        if (_driver is not null)
        {
            await _driver.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public int AckedCount => _clients.Sum(c => c.Acked.Count);

    /// <summary>Notes a step of the test (a silo stopping, an edge draining) for the failure explanation.</summary>
    public void Mark(string step)
    {
        lock (_marks)
        {
            _marks.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {step}");
        }
    }

    /// <summary>Waits until every acknowledged message reached its recipient; then asserts nothing was lost or out of order.</summary>
    public async Task AssertNothingLostAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        List<string> missing;
        while (true)
        {
            missing = Missing();
            if (missing.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged message(s) never arrived, e.g. {string.Join(", ", missing.Take(5))}; {Explain(missing)}");
        var anomalies = _clients.SelectMany(c => c.Anomalies.Select(a => $"{c.ClientId}: {a}")).ToList();
        Assert.True(anomalies.Count == 0, string.Join("; ", anomalies.Take(10)));

        // In send order per sender (Guarantee 1): each recipient sees its neighbour's numbers increasing.
        foreach (var client in _clients)
        {
            var numbers = client.Received.Select(p => int.Parse(p[(p.IndexOf('#') + 1)..])).ToList();
            Assert.True(numbers.SequenceEqual(numbers.Order()), $"{client.ClientId} received out of order");
        }
    }

    /// <summary>What the recipients of missing messages saw: enough to tell a lost push from a lost mailbox.</summary>
    private string Explain(List<string> missing)
    {
        var senders = _clients.ToDictionary(c => c.ClientId);
        var bySender = _clients.Select((c, i) => (c.ClientId, Recipient: _clients[(i + 1) % _clients.Count])).ToDictionary(p => p.ClientId, p => p.Recipient);
        return string.Join("; ", missing
            .GroupBy(p => p[..p.IndexOf('#')])
            .Select(g =>
            {
                var recipient = bySender[g.Key];
                var acked = senders[g.Key].AckedAt(g.First());
                var received = recipient.Received;
                return $"{g.Count()} from {g.Key} to {recipient.ClientId}, first acked {acked:HH:mm:ss.fff} (connections {recipient.Connections}, duplicates {recipient.Duplicates}, " +
                    $"not recovered {recipient.NotRecovered}, last received {received.LastOrDefault()}, anomalies [{string.Join(", ", recipient.Anomalies.Take(5))}], " +
                    $"events [{string.Join(", ", recipient.Events.TakeLast(12))}])";
            })) + $"; steps [{string.Join(", ", Marks())}]";
    }

    private List<string> Marks()
    {
        lock (_marks)
        {
            return [.. _marks];
        }
    }

    private List<string> Missing()
    {
        var received = _clients.SelectMany(c => c.Received).ToHashSet();
        return _clients.SelectMany(c => c.Acked).Where(p => !received.Contains(p)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await StopSendingAsync();
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
    }
}
