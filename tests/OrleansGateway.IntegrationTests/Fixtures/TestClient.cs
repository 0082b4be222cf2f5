using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A real <see cref="ClientWebSocket"/> speaking ogw.v1.json. Every received frame is kept in order; tests
/// wait on conditions over them with a timeout, never on sleeps.
/// </summary>
internal sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly ClientWebSocket _socket;
    private readonly List<JsonElement> _frames = [];
    private readonly object _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _reader;
    private int _nextId;

    private TestClient(ClientWebSocket socket) => _socket = socket;

    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public bool Closed { get; private set; }

    /// <summary>Why reading stopped, when it was not a close frame.</summary>
    public Exception? Error { get; private set; }

    public string? SubProtocol => _socket.SubProtocol;

    /// <summary>Connects and (unless <paramref name="startReading"/> is false) starts reading frames.</summary>
    public static async Task<TestClient> ConnectAsync(Uri edge, string token, long? lastSeq = null, bool startReading = true, string? origin = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("ogw.v1.json");
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        var uri = new UriBuilder(edge) { Path = "/ws", Query = $"access_token={token}" + (lastSeq is { } s ? $"&last_seq={s}" : "") }.Uri;
        using var cts = new CancellationTokenSource(DefaultTimeout);
        await socket.ConnectAsync(uri, cts.Token);
        var client = new TestClient(socket);
        if (startReading)
        {
            client.StartReading();
        }

        return client;
    }

    /// <summary>Tries to connect; returns the HTTP status of a refused upgrade (or 101 when it succeeded), and Retry-After if any.</summary>
    public static async Task<(HttpStatusCode Status, string? RetryAfter)> TryConnectAsync(Uri edge, string? query, string? origin = null, string? bearer = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("ogw.v1.json");
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {bearer}");
        }

        var uri = new UriBuilder(edge) { Path = "/ws", Query = query ?? "" }.Uri;
        using var cts = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await socket.ConnectAsync(uri, cts.Token);
            socket.Abort();
            return (HttpStatusCode.SwitchingProtocols, null);
        }
        catch (WebSocketException)
        {
            var retryAfter = socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true ? values.FirstOrDefault() : null;
            return (socket.HttpStatusCode, retryAfter);
        }
    }

    public void StartReading() => _reader ??= Task.Run(ReadLoopAsync);

    public IReadOnlyList<JsonElement> Frames
    {
        get
        {
            lock (_gate)
            {
                return [.. _frames];
            }
        }
    }

    public IReadOnlyList<JsonElement> Messages => Frames.Where(f => f.Type() == "msg").ToList();

    public string NextId() => $"c{Interlocked.Increment(ref _nextId)}";

    public Task SendTextAsync(string text) => SendRawAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendRawAsync(byte[] payload, WebSocketMessageType type)
    {
        using var cts = new CancellationTokenSource(DefaultTimeout);
        await _socket.SendAsync(payload, type, endOfMessage: true, cts.Token);
    }

    /// <summary>Sends a direct message without waiting; returns the frame id.</summary>
    public async Task<string> SendAsync(string to, string dataJson)
    {
        var id = NextId();
        await SendTextAsync($$"""{"t":"send","id":"{{id}}","to":"{{to}}","data":{{dataJson}}}""");
        return id;
    }

    /// <summary>Sends a frame and waits for the <c>ok</c>/<c>err</c>/<c>pong</c> carrying its id.</summary>
    public async Task<JsonElement> RequestAsync(string frameJsonWithIdPlaceholder, TimeSpan? timeout = null)
    {
        var id = NextId();
        await SendTextAsync(frameJsonWithIdPlaceholder.Replace("$id", id, StringComparison.Ordinal));
        return await WaitForReplyAsync(id, timeout);
    }

    public async Task<JsonElement> WaitForReplyAsync(string id, TimeSpan? timeout = null)
    {
        JsonElement reply = default;
        await WaitUntilAsync(frames =>
        {
            foreach (var f in frames)
            {
                if (f.TryGetProperty("id", out var fid) && fid.GetString() == id && f.Type() is "ok" or "err" or "pong")
                {
                    reply = f;
                    return true;
                }
            }

            return false;
        }, timeout, $"a reply to {id}");
        return reply;
    }

    public Task<JsonElement> WaitForFrameAsync(string type, TimeSpan? timeout = null) => WaitForFrameAsync(f => f.Type() == type, timeout, type);

    public async Task<JsonElement> WaitForFrameAsync(Func<JsonElement, bool> match, TimeSpan? timeout = null, string what = "a frame")
    {
        JsonElement found = default;
        await WaitUntilAsync(frames =>
        {
            foreach (var f in frames)
            {
                if (match(f))
                {
                    found = f;
                    return true;
                }
            }

            return false;
        }, timeout, what);
        return found;
    }

    /// <summary>Waits until at least <paramref name="count"/> <c>msg</c> frames arrived.</summary>
    public Task WaitForMessagesAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(frames => frames.Count(f => f.Type() == "msg") >= count, timeout, $"{count} messages");

    public Task WaitClosedAsync(TimeSpan? timeout = null) => WaitUntilAsync(_ => Closed, timeout, "the server to close");

    /// <summary>Waits until <paramref name="condition"/> holds over the frames received so far.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<JsonElement>, bool> condition, TimeSpan? timeout = null, string what = "a condition")
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (condition(_frames))
                {
                    return;
                }

                if (Closed && _reader is { IsCompleted: true })
                {
                    throw new InvalidOperationException($"The connection closed ({CloseStatus}, {Error?.Message}) before {what}. Frames: {Describe()}");
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Timed out waiting for {what}. Frames ({_frames.Count}): {Describe()}");
            }

            await Task.WhenAny(changed, Task.Delay(left));
        }
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                _socket.Abort();
            }
        }

        if (_reader is not null)
        {
            await _reader.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        finally
        {
            _socket.Dispose();
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = result.CloseStatus;
                    await AnswerCloseAsync(result.CloseStatus);
                    break;
                }

                var frame = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
                lock (_gate)
                {
                    _frames.Add(frame);
                    Signal();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Aborted or reset: recorded as closed without a status.
            Error = ex;
        }
        finally
        {
            lock (_gate)
            {
                Closed = true;
                Signal();
            }
        }
    }

    /// <summary>Answers the server's close frame, as browsers do (ClientWebSocket leaves that to the application).</summary>
    private async Task AnswerCloseAsync(WebSocketCloseStatus? status)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _socket.CloseOutputAsync(status ?? WebSocketCloseStatus.Empty, null, cts.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server did not wait for the answer: nothing left to close.
        }
    }

    private void Signal()
    {
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private string Describe()
    {
        lock (_gate)
        {
            return string.Join(' ', _frames.TakeLast(8).Select(f => f.GetRawText().Length > 200 ? f.GetRawText()[..200] : f.GetRawText()));
        }
    }
}

internal static class FrameExtensions
{
    public static string? Type(this JsonElement frame) => frame.TryGetProperty("t", out var t) ? t.GetString() : null;

    public static long Seq(this JsonElement frame) => frame.GetProperty("seq").GetInt64();
}
