using System.Net;
using System.Net.Sockets;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A loopback TCP proxy in front of an edge. <see cref="Freeze"/> stops forwarding without closing anything: a
/// silently dead connection (a NAT that forgot it, a laptop lid), which only heartbeats can detect.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private volatile bool _frozen;
    private volatile bool _paused;
    private readonly Task _accepting;

    public TcpProxy(Uri target)
    {
        _target = target;
        _listener.Start();
        Uri = new Uri($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/ws");
        _accepting = AcceptAsync();
    }

    public Uri Uri { get; }

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

            _ = PumpAsync(inbound.GetStream(), outbound.GetStream());
            _ = PumpAsync(outbound.GetStream(), inbound.GetStream());
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
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

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The proxy is shutting down or a side closed.
        }
    }
}
