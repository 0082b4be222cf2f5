using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.EdgeHost.Termination;

/// <summary>
/// The upgraded connection as the <see cref="Stream"/> <c>WebSocket.CreateFromStream</c> runs over: Kestrel's
/// transport pipes, nothing of its HTTP/1.1 layer in between. A zero-byte read waits for data without taking any
/// (an idle socket holds no buffer); disposing aborts the connection, as ASP.NET Core's upgrade stream does.
/// </summary>
internal sealed class TransportStream(ConnectionContext connection) : Stream, IPeerCloseWaiter
{
    private readonly PipeReader _input = connection.Transport.Input;
    private readonly PipeWriter _output = connection.Transport.Output;
    private int _disposed;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await _input.ReadAsync(cancellationToken);
        var data = result.Buffer;
        if (result.IsCanceled)
        {
            _input.AdvanceTo(data.Start);
            throw new OperationCanceledException(cancellationToken);
        }

        var count = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, count).CopyTo(buffer.Span);
        // A zero-byte read consumes and examines nothing: the next read returns at once with what arrived.
        _input.AdvanceTo(data.GetPosition(count));
        return count;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await _output.WriteAsync(buffer, cancellationToken);
        if (result.IsCompleted || result.IsCanceled)
        {
            // The connection was aborted (by us or the transport): a write that went nowhere is a failed write.
            throw new IOException("The connection was closed.");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public async Task WaitForPeerCloseAsync(TimeSpan timeout, TimeProvider time)
    {
        using var cts = new CancellationTokenSource(timeout, time);
        try
        {
            var result = await _input.ReadAsync(cts.Token);
            _input.AdvanceTo(result.Buffer.End);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException or ConnectionAbortedException)
        {
            // Timed out, or the connection already ended: either way there is nothing more to wait for.
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            connection.Abort(new ConnectionAbortedException("The WebSocket ended."));
        }

        base.Dispose(disposing);
    }
}
