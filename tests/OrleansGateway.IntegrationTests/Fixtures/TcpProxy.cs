using System.Net;
using System.Net.Sockets;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A loopback TCP proxy in front of an edge. <see cref="Freeze"/> stops forwarding without closing anything: a
/// silently dead connection (a NAT that forgot it, a laptop lid), which only heartbeats can detect.
/// <see cref="LoseReplyToNextAsync"/> loses the server's answer to one command the server did run.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private volatile bool _frozen;
    private volatile bool _paused;
    private LostReply? _loseReply;
    private readonly Task _accepting;

    public TcpProxy(Uri target)
    {
        _target = target;
        _listener.Start();
        Uri = new Uri($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/ws");
        _accepting = AcceptAsync();
    }

    public Uri Uri { get; }

    /// <summary>The loopback port clients connect to (for non-WebSocket targets, e.g. Redis).</summary>
    public int Port => Uri.Port;

    /// <summary>
    /// The next chunk a client sends that <paramref name="command"/> matches is forwarded; the server's next reply on
    /// that connection is swallowed and both sides are reset: the server ran the command, the client never hears back
    /// (a connection reset after the write). Completes once that happened.
    /// </summary>
    public Task LoseReplyToNextAsync(Func<ReadOnlyMemory<byte>, bool> command)
    {
        var rule = new LostReply(command);
        _loseReply = rule;
        return rule.Done.Task;
    }

    public void Freeze() => _frozen = true;

    /// <summary>Refuses new connections and closes the current ones (an edge that is gone), until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        _paused = true;
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }

            _connections.Clear();
        }
    }

    public void Resume() => _paused = false;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }
        }

        await _accepting.ContinueWith(_ => { }, TaskScheduler.Default); // ends with the listener; its exception is the stop
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            if (_frozen || _paused)
            {
                inbound.Dispose();
                continue;
            }

            var outbound = new TcpClient();
            await outbound.ConnectAsync(_target.Host, _target.Port, _stop.Token);
            lock (_connections)
            {
                _connections.Add(inbound);
                _connections.Add(outbound);
            }

            var pair = new Pair(inbound, outbound);
            _ = PumpAsync(inbound.GetStream(), outbound.GetStream(), pair, fromClient: true);
            _ = PumpAsync(outbound.GetStream(), inbound.GetStream(), pair, fromClient: false);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, Pair pair, bool fromClient)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                if (_frozen)
                {
                    continue; // swallow: the peer hears nothing, and nothing is closed
                }

                if (fromClient && _loseReply is { } rule && rule.Command(buffer.AsMemory(0, read)) && Interlocked.CompareExchange(ref _loseReply, null, rule) == rule)
                {
                    pair.LoseNextReply = rule;
                }
                else if (!fromClient && pair.LoseNextReply is { } lost)
                {
                    pair.Reset(); // the reply (proof the server ran it) is never forwarded
                    lost.Done.TrySetResult();
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The proxy is shutting down or a side closed.
        }
    }

    private sealed class LostReply(Func<ReadOnlyMemory<byte>, bool> command)
    {
        public Func<ReadOnlyMemory<byte>, bool> Command { get; } = command;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Pair(TcpClient client, TcpClient server)
    {
        private volatile LostReply? _loseNextReply;

        public LostReply? LoseNextReply
        {
            get => _loseNextReply;
            set => _loseNextReply = value;
        }

        /// <summary>Closes both sockets with RST, as a connection reset does.</summary>
        public void Reset()
        {
            foreach (var side in new[] { client, server })
            {
                side.Client.LingerState = new LingerOption(true, 0);
                side.Dispose();
            }
        }
    }
}
