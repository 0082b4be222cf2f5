using System.Threading.Channels;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// A session's bounded queue of encoded frames, read only by its send loop. Writers never wait: a full
/// outbox means the client reads slower than it is sent to, and the session is closed as a slow consumer
/// rather than slowing the fan-out for everyone else.
/// </summary>
internal sealed class SessionOutbox
{
    private readonly Channel<byte[]> _channel;

    public SessionOutbox(int capacity) =>
        _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: full → false, never blocks, never drops silently
        });

    public ChannelReader<byte[]> Reader => _channel.Reader;

    /// <summary>False when full or completed.</summary>
    public bool TryWrite(byte[] frame) => _channel.Writer.TryWrite(frame);

    public void Complete() => _channel.Writer.TryComplete();
}
