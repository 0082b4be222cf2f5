using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A WebSocket client over a bare TCP socket speaking RFC 6455 itself: for what <c>ClientWebSocket</c> cannot do, which
/// is not to answer pings (it always does) or to offer any subprotocol header at all. Reads every frame on a loop,
/// answering pings only when told to, and records pings, text frames and when the connection ended.
/// </summary>
internal sealed class RawWebSocketClient : IAsyncDisposable
{
    private const byte Text = 0x1, Close = 0x8, Ping = 0x9, Pong = 0xA;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly bool _answerPings;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource<DateTime> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _texts = [];
    private int _pings;
    private Task? _reader;

    private RawWebSocketClient(TcpClient tcp, bool answerPings)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _answerPings = answerPings;
    }

    public int PingsReceived => Volatile.Read(ref _pings);

    public IReadOnlyList<string> Texts { get { lock (_texts) { return [.. _texts]; } } }

    /// <summary>Completes with the time the connection ended (close frame, EOF or reset).</summary>
    public Task<DateTime> Ended => _ended.Task;

    /// <summary>
    /// Sends the upgrade request (<paramref name="subProtocol"/> null: no <c>Sec-WebSocket-Protocol</c> header) and reads
    /// the response head. Returns the HTTP status and, when it is 101, a client already reading frames.
    /// </summary>
    public static async Task<(HttpStatusCode Status, RawWebSocketClient? Client)> ConnectAsync(Uri edge, string query, string? subProtocol, bool answerPings)
    {
        var tcp = new TcpClient();
        using var cts = new CancellationTokenSource(TestClient.DefaultTimeout);
        await tcp.ConnectAsync(edge.Host, edge.Port, cts.Token);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET /ws?{query} HTTP/1.1\r\nHost: {edge.Host}:{edge.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n" +
            (subProtocol is null ? "" : $"Sec-WebSocket-Protocol: {subProtocol}\r\n") + "\r\n";
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);

        // The response head, byte by byte: nothing after it may be consumed (frames follow at once).
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            if (await stream.ReadAsync(one, cts.Token) == 0)
            {
                throw new IOException($"The edge closed during the handshake: {Encoding.ASCII.GetString([.. head])}");
            }

            head.Add(one[0]);
        }

        var status = (HttpStatusCode)int.Parse(Encoding.ASCII.GetString([.. head]).Split(' ')[1]);
        if (status != HttpStatusCode.SwitchingProtocols)
        {
            tcp.Dispose();
            return (status, null);
        }

        var client = new RawWebSocketClient(tcp, answerPings);
        client._reader = Task.Run(client.ReadLoopAsync);
        return (status, client);
    }

    public Task SendTextAsync(string text) => SendAsync(Text, Encoding.UTF8.GetBytes(text));

    /// <summary>Waits until a text frame satisfying <paramref name="match"/> arrived.</summary>
    public async Task<string> WaitForTextAsync(Func<string, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + TestClient.DefaultTimeout;
        while (true)
        {
            if (Texts.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (Ended.IsCompleted || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No {what} (ended: {Ended.IsCompleted}); texts: {string.Join(' ', Texts)}");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        if (_reader is not null)
        {
            await _reader.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _writeLock.Dispose();
    }

    private async Task SendAsync(byte opcode, byte[] payload)
    {
        // Client frames are masked (RFC 6455 §5.3); payloads here stay under 64 KiB.
        var header = new List<byte> { (byte)(0x80 | opcode) };
        if (payload.Length < 126)
        {
            header.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            header.Add(0x80 | 126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }

        var mask = RandomNumberGenerator.GetBytes(4);
        header.AddRange(mask);
        var masked = payload.Select((b, i) => (byte)(b ^ mask[i % 4])).ToArray();
        await _writeLock.WaitAsync();
        try
        {
            await _stream.WriteAsync(header.Concat(masked).ToArray());
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var head = await ReadExactlyAsync(2);
                var opcode = (byte)(head[0] & 0x0F);
                long length = head[1] & 0x7F;
                if (length == 126)
                {
                    length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2));
                }
                else if (length == 127)
                {
                    length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8));
                }

                var payload = await ReadExactlyAsync((int)length); // server frames are never masked
                switch (opcode)
                {
                    case Ping:
                        Interlocked.Increment(ref _pings);
                        if (_answerPings)
                        {
                            await SendAsync(Pong, payload);
                        }

                        break;
                    case Text:
                        lock (_texts)
                        {
                            _texts.Add(Encoding.UTF8.GetString(payload));
                        }

                        break;
                    case Close:
                        return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or EndOfStreamException)
        {
            // Reset or disposed: the connection ended.
        }
        finally
        {
            _ended.TrySetResult(DateTime.UtcNow);
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer);
        return buffer;
    }
}
