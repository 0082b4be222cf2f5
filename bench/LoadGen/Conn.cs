using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>
/// One shared HTTP handler per process whose connect callback binds each new TCP connection to the next loopback
/// source address (127.0.1.1, 127.0.1.2, …): the edge limits connections per source IP, and one source address
/// has only ~28k ephemeral ports per destination.
/// </summary>
internal static class Network
{
    private const int IpBindAddressNoPort = 24; // IP_BIND_ADDRESS_NO_PORT: pick the port at connect(), per 4-tuple
    private static int s_next;
    private static int s_sources = 200;
    private static int s_offset;
    private static HttpMessageInvoker? s_invoker;

    public static HttpMessageInvoker Invoker => s_invoker ??= Create();

    public static void Configure(int sources, int offset)
    {
        s_sources = Math.Max(1, sources);
        s_offset = offset;
    }

    private static HttpMessageInvoker Create() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var n = (Interlocked.Increment(ref s_next) + s_offset) % s_sources;
            var source = new IPAddress(new byte[] { 127, 0, (byte)(1 + n / 250), (byte)(1 + n % 250) });
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.SetRawSocketOption((int)SocketOptionLevel.IP, IpBindAddressNoPort, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });
}

/// <summary>Outcome of one connect attempt: 101 on success, else the HTTP status (0 = no HTTP answer).</summary>
internal readonly record struct ConnectResult(bool Ok, int Status, string? Error);

/// <summary>One client connection: connect (with a minted JWT), a receive loop handing parsed frames to a callback, serialized sends.</summary>
internal sealed class Conn(string clientId, Action<Conn, ServerFrame> onFrame)
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private ClientWebSocket? _socket;
    private TaskCompletionSource<ServerFrame> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string ClientId { get; } = clientId;

    /// <summary>Free slot for the scenario (partner index, counters holder…).</summary>
    public int Index { get; init; }

    public Task Receiving { get; private set; } = Task.CompletedTask;

    public Task<ServerFrame> Welcome => _welcome.Task;

    public bool IsOpen => _socket?.State == WebSocketState.Open;

    public async Task<ConnectResult> ConnectAsync(Uri wsBase, string token, long? lastSeq, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("ogw.v1.json");
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // the server pings; the receive loop answers
        socket.Options.CollectHttpResponseDetails = true;
        var uri = lastSeq is { } seq ? new Uri(wsBase, $"/ws?last_seq={seq}") : new Uri(wsBase, "/ws");
        try
        {
            await socket.ConnectAsync(uri, Network.Invoker, cancellationToken);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException or IOException)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            return new ConnectResult(false, status, ex.GetBaseException().Message);
        }

        _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _socket = socket;
        Receiving = ReceiveLoopAsync(socket);
        return new ConnectResult(true, 101, null);
    }

    /// <summary>Connects, retrying 503 (edge busy or handshake rate) with a jittered pause, then waits for <c>welcome</c>.</summary>
    public async Task<ConnectResult> ConnectWithRetryAsync(Uri wsBase, string token, long? lastSeq, int attempts, CancellationToken cancellationToken)
    {
        ConnectResult result = default;
        for (var i = 0; i < attempts && !cancellationToken.IsCancellationRequested; i++)
        {
            result = await ConnectAsync(wsBase, token, lastSeq, cancellationToken);
            if (result.Ok)
            {
                var done = await Task.WhenAny(Welcome, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken));
                return done == Welcome ? result : new ConnectResult(false, 101, "no welcome within 30 s");
            }

            if (result.Status != 503)
            {
                return result;
            }

            await Task.Delay(100 + Random.Shared.Next(400), cancellationToken);
        }

        return result;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> frame)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket!.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public void Abort()
    {
        _socket?.Abort();
        _socket?.Dispose();
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket)
    {
        try
        {
            while (true)
            {
                // Zero-byte read while idle: no buffer per idle connection; control frames (ping) are still answered.
                var peek = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    var length = 0;
                    var end = peek.EndOfMessage;
                    while (!end)
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
                            return;
                        }

                        length += result.Count;
                        end = result.EndOfMessage;
                    }

                    var frame = ServerFrame.Parse(buffer.AsSpan(0, length));
                    if (frame.Type == FrameType.Welcome)
                    {
                        _welcome.TrySetResult(frame);
                    }

                    onFrame(this, frame);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Closed by the server or aborted by us.
        }
        finally
        {
            _welcome.TrySetCanceled();
        }
    }
}
