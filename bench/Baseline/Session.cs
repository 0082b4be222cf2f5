using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace OrleansGateway.Bench.Baseline;

/// <summary>One socket: a receive loop that handles frames in order, a send loop that alone writes from a bounded outbox.</summary>
internal sealed class Session(string clientId, WebSocket socket, Hub hub)
{
    private const int OutboxCapacity = 1000;
    private const int MaxFrameBytes = 64 * 1024;
    private readonly Channel<byte[]> _outbox = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(OutboxCapacity) { SingleReader = true });
    private readonly List<Topic> _topics = [];

    public async Task RunAsync(CancellationToken aborted)
    {
        var mailbox = hub.MailboxOf(clientId);
        lock (mailbox.Gate)
        {
            mailbox.Sessions.Add(this);
            Send(FrameCodec.Welcome(clientId, mailbox.Seq));
        }

        var sending = SendLoopAsync();
        try
        {
            await ReceiveLoopAsync(aborted);
        }
        finally
        {
            lock (mailbox.Gate)
            {
                mailbox.Sessions.Remove(this);
            }

            foreach (var topic in _topics)
            {
                lock (topic.Gate)
                {
                    topic.Subscribers.Remove(this);
                }
            }

            _outbox.Writer.TryComplete();
            await sending;
        }
    }

    /// <summary>Queues a frame; a full outbox closes the session (slow consumer) rather than growing without bound.</summary>
    public void Send(byte[] frame)
    {
        if (!_outbox.Writer.TryWrite(frame))
        {
            _outbox.Writer.TryComplete();
            socket.Abort();
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken aborted)
    {
        try
        {
            while (true)
            {
                // Zero-byte read while idle, as the edge does: no receive buffer held per idle socket.
                var peek = await socket.ReceiveAsync(Memory<byte>.Empty, aborted);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    var length = 0;
                    ValueWebSocketReceiveResult result = default;
                    while (!peek.EndOfMessage && !result.EndOfMessage)
                    {
                        if (length == buffer.Length)
                        {
                            if (length >= MaxFrameBytes)
                            {
                                await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "frame too large", aborted);
                                return;
                            }

                            var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                            buffer.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }

                        result = await socket.ReceiveAsync(buffer.AsMemory(length), aborted);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            return;
                        }

                        length += result.Count;
                    }

                    Handle(buffer.AsSpan(0, length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The peer went away: a normal end.
        }
    }

    private void Handle(ReadOnlySpan<byte> utf8)
    {
        var frame = FrameCodec.TryParse(utf8);
        switch (frame?.Type)
        {
            case null:
                Send(FrameCodec.Error(frame?.Id, "bad_request", "a frame must be a JSON object with a string t"));
                break;
            case "ping":
                Send(FrameCodec.Pong(frame.Id));
                break;
            case "send" when frame.To is { } to && FrameCodec.IsValidId(to):
                var mailbox = hub.MailboxOf(to);
                lock (mailbox.Gate)
                {
                    var message = FrameCodec.Message(++mailbox.Seq, clientId, frame.Data ?? "null"u8.ToArray());
                    foreach (var session in mailbox.Sessions)
                    {
                        session.Send(message);
                    }
                }

                Send(FrameCodec.Ok(frame.Id));
                break;
            case "sub" when frame.Channel is { Length: > 0 } ch:
                var topic = hub.TopicOf(ch);
                long off;
                lock (topic.Gate)
                {
                    if (!topic.Subscribers.Contains(this))
                    {
                        topic.Subscribers.Add(this);
                        _topics.Add(topic);
                    }

                    off = topic.Offset;
                    Send(FrameCodec.Ok(frame.Id, off));
                }

                break;
            case "unsub" when frame.Channel is { Length: > 0 } ch:
                var left = hub.TopicOf(ch);
                lock (left.Gate)
                {
                    left.Subscribers.Remove(this);
                    _topics.Remove(left);
                }

                Send(FrameCodec.Ok(frame.Id));
                break;
            case "pub" when frame.Channel is { Length: > 0 } ch:
                var target = hub.TopicOf(ch);
                lock (target.Gate)
                {
                    var publication = FrameCodec.Publication(ch, ++target.Offset, clientId, frame.Data ?? "null"u8.ToArray());
                    foreach (var session in target.Subscribers)
                    {
                        session.Send(publication);
                    }
                }

                Send(FrameCodec.Ok(frame.Id));
                break;
            default:
                Send(FrameCodec.Error(frame.Id, "bad_request", "unsupported or incomplete frame"));
                break;
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            var reader = _outbox.Reader;
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out var frame))
                {
                    await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                }
            }

            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A write failed: this session ends; the receive loop sees the abort.
        }
    }
}
