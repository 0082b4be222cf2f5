using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// A session's ordered streams: its mailbox and the channels it follows, one <see cref="StreamCursor"/> each (held
/// pushes, de-duplication, gap repair), and the resync API a re-attach after a silo crash uses. Frames leave through
/// the session's outbox (<see cref="IStreamSink"/>): data flows cluster → streams → outbox → transport, never back.
/// </summary>
/// <remarks>
/// <para>The lock is this object, not the session's: cursors change under it, and the outbox is reached from inside
/// it (lock order streams → session; the session never calls in here under its own lock). Nothing outside the
/// streams and their cursors locks it; a separate lock object would cost every connection 24 bytes.</para>
/// <para>Channel cursors are added and removed only by <see cref="Cluster.ChannelSubscriptions"/>, the edge's one owner
/// of "session follows channel": it changes this index and its per-channel subscriber list together.</para>
/// </remarks>
internal sealed class SessionStreams : ICursorOwner
{
    private readonly IStreamSink _sink;
    private readonly IStreamHistory _history;
    private readonly StreamCursor _mailbox;

    // Created on the first sub (memory per idle connection); guarded by this.
    private Dictionary<string, StreamCursor>? _channels;

    public SessionStreams(IStreamSink sink, IStreamHistory history)
    {
        _sink = sink;
        _history = history;
        _mailbox = new StreamCursor(this, channel: null);
    }

    public string ClientId => _sink.ClientId;

    public long SessionId => _sink.SessionId;

    public bool IsClosing => _sink.IsClosing;

    public int ChannelCount
    {
        get
        {
            lock (this)
            {
                return _channels?.Count ?? 0;
            }
        }
    }

    object ICursorOwner.Gate => this;

    int ICursorOwner.OutboxCapacity => _sink.OutboxCapacity;

    /// <summary>Writes <c>welcome</c> and the attach's replay, then delivers live (and held) messages.</summary>
    public void StartMailbox(byte[] welcome, StreamReplay result)
    {
        lock (this)
        {
            _mailbox.Start(welcome, result);
        }
    }

    /// <summary>New mailbox messages pushed to this edge; <paramref name="frames"/> holds each already encoded (once per edge).</summary>
    public void Deliver(IReadOnlyList<StreamMessage> messages, byte[][] frames)
    {
        lock (this)
        {
            _mailbox.Deliver(messages, frames);
        }
    }

    /// <summary>New publications on a channel this session follows.</summary>
    public void DeliverPublications(string channel, IReadOnlyList<StreamMessage> publications, byte[][] frames)
    {
        lock (this)
        {
            if (_channels is not null && _channels.TryGetValue(channel, out var cursor))
            {
                cursor.Deliver(publications, frames);
            }
        }
    }

    /// <summary>The last mailbox seq written to this session; false until its <c>welcome</c> went out (still attaching).</summary>
    /// <summary>
    /// Joins and leaves on a channel this session follows with presence, after its publications so far. Dropped while
    /// the <c>sub</c> is not answered yet: the client asks for the member list after its <c>ok</c>.
    /// </summary>
    public void DeliverPresence(string channel, byte[][] frames)
    {
        lock (this)
        {
            if (_channels is not null && _channels.TryGetValue(channel, out var cursor) && cursor.IsLive)
            {
                foreach (var frame in frames)
                {
                    _sink.Send(frame);
                }
            }
        }
    }

    public bool TryGetMailboxLast(out long last)
    {
        lock (this)
        {
            last = _mailbox.Last;
            return _mailbox.IsLive;
        }
    }

    /// <summary>The last offset of <paramref name="channel"/> written to this session; false until its <c>sub</c> was answered.</summary>
    public bool TryGetChannelLast(string channel, out long last)
    {
        lock (this)
        {
            last = 0;
            if (_channels is null || !_channels.TryGetValue(channel, out var cursor) || !cursor.IsLive)
            {
                return false;
            }

            last = cursor.Last;
            return true;
        }
    }

    /// <summary>
    /// The answer of a re-attach after a silo crash (<see cref="Cluster.EdgeResync"/>): newer messages follow in order;
    /// if the mailbox lost what this session saw (or refused it), the session is told <c>bye draining</c> and closed
    /// with 1012, so the client reconnects with <c>last_seq</c> and learns <c>recovered:false</c> from its welcome.
    /// </summary>
    /// <returns>False when the session was told to reconnect.</returns>
    public bool ResyncMailbox(StreamReplay result, int reconnectMs)
    {
        if (result.SessionLimitReached || !result.Recovered)
        {
            Reconnect(reconnectMs);
            return false;
        }

        lock (this)
        {
            _mailbox.CatchUp(result.Replay);
        }

        return true;
    }

    /// <summary>As <see cref="ResyncMailbox"/>, for one channel: <paramref name="lost"/> when the channel lost history this edge saw.</summary>
    public void ResyncChannel(string channel, StreamReplay result, bool lost, int reconnectMs)
    {
        if (lost)
        {
            Reconnect(reconnectMs);
            return;
        }

        lock (this)
        {
            if (_channels is not null && _channels.TryGetValue(channel, out var cursor) && cursor.IsLive)
            {
                cursor.CatchUp(result.Replay);
            }
        }
    }

    /// <summary>Tells the session <c>bye draining</c> (1012): it reconnects and resumes.</summary>
    public void Reconnect(int reconnectMs) => _sink.RequestClose(CloseReason.Draining, reconnectMs);

    /// <summary>
    /// Registers a channel cursor before the subscription reaches the grain, so racing publications are held.
    /// For <see cref="Cluster.ChannelSubscriptions"/> only.
    /// </summary>
    internal ChannelAdd TryAddChannel(string channel, int maxChannels)
    {
        lock (this)
        {
            _channels ??= new Dictionary<string, StreamCursor>(StringComparer.Ordinal);
            if (_channels.Count >= maxChannels)
            {
                return ChannelAdd.LimitReached;
            }

            if (_channels.ContainsKey(channel))
            {
                return ChannelAdd.AlreadyFollowed;
            }

            _channels[channel] = new StreamCursor(this, channel);
            return ChannelAdd.Added;
        }
    }

    /// <summary>Answers the <c>sub</c> with the current offset, then replays and goes live. For <see cref="Cluster.ChannelSubscriptions"/> only.</summary>
    internal void StartChannel(string channel, string? id, StreamReplay result)
    {
        lock (this)
        {
            if (_channels is not null && _channels.TryGetValue(channel, out var cursor))
            {
                cursor.Start(JsonFrameCodec.SubscribeOk(id, result.Seq, result.Recovered), result);
            }
        }
    }

    /// <summary>For <see cref="Cluster.ChannelSubscriptions"/> only.</summary>
    internal bool RemoveChannel(string channel)
    {
        lock (this)
        {
            return _channels is not null && _channels.Remove(channel);
        }
    }

    /// <summary>The channels this session follows (a snapshot).</summary>
    public string[] Channels()
    {
        lock (this)
        {
            return _channels is null ? [] : [.. _channels.Keys];
        }
    }

    Task<StreamReplay> ICursorOwner.FetchSinceAsync(string? channel, long after) =>
        channel is null ? _history.ReadMailboxSinceAsync(_sink.ClientId, after) : _history.ReadChannelSinceAsync(channel, after);

    byte[] ICursorOwner.Encode(string? channel, StreamMessage message) =>
        channel is null ? JsonFrameCodec.Message(message.Seq, message.From, message.Data) : JsonFrameCodec.Publication(channel, message.Seq, message.From, message.Data);

    bool ICursorOwner.Send(byte[] frame) => _sink.Send(frame);

    void ICursorOwner.OverflowHeld() => _sink.OverflowHeld();

    void ICursorOwner.RepairFailed(Exception? exception) => _sink.RepairFailed(exception);
}

/// <summary>The outcome of <see cref="SessionStreams.TryAddChannel"/>.</summary>
internal enum ChannelAdd
{
    Added,
    AlreadyFollowed,
    LimitReached,
}

/// <summary>What <see cref="SessionStreams"/> needs from its session: the outbox and the close state.</summary>
internal interface IStreamSink
{
    string ClientId { get; }

    long SessionId { get; }

    bool IsClosing { get; }

    int OutboxCapacity { get; }

    /// <summary>Queues a frame; on overflow the session closes as a slow consumer.</summary>
    bool Send(byte[] frame);

    void RequestClose(CloseReason reason, int? reconnectMs = null, bool abandonQueued = false);

    /// <summary>Held messages outgrew the outbox: close as a slow consumer.</summary>
    void OverflowHeld();

    /// <summary>A gap could not be repaired: close so the client resumes.</summary>
    void RepairFailed(Exception? exception);
}

/// <summary>Where a cursor reads a stream again (gap repair): the grains, through the repeatable call policy.</summary>
internal interface IStreamHistory
{
    Task<StreamReplay> ReadMailboxSinceAsync(string clientId, long after);

    Task<StreamReplay> ReadChannelSinceAsync(string channel, long after);
}
