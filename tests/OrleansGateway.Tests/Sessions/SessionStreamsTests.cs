using System.Text;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Sessions;

/// <summary>The session's streams through their own owner: no session lock, no socket, no cluster.</summary>
public sealed class SessionStreamsTests
{
    private readonly FakeSink _sink = new();
    private readonly FakeHistory _history = new();

    private SessionStreams Create() => new(_sink, _history);

    private static StreamMessage M(long seq) => new(seq, "bob", Encoding.UTF8.GetBytes($"\"{seq}\""), 0);

    private static byte[][] Live(string channel, params StreamMessage[] messages) =>
        messages.Select(m => JsonFrameCodec.Publication(channel, m.Seq, m.From, m.Data)).ToArray();

    private static string Pub(string channel, long off) => Encoding.UTF8.GetString(JsonFrameCodec.Publication(channel, off, "bob", Encoding.UTF8.GetBytes($"\"{off}\"")));

    private static string Msg(long seq) => Encoding.UTF8.GetString(JsonFrameCodec.Message(seq, "bob", Encoding.UTF8.GetBytes($"\"{seq}\"")));

    [Fact]
    public void DeliverPublications_RacingTheSubReply_HeldThenWrittenAfterReplyAndReplay()
    {
        var streams = Create();
        Assert.Equal(ChannelAdd.Added, streams.TryAddChannel("news", maxChannels: 4));

        streams.DeliverPublications("news", [M(3)], Live("news", M(3)));
        Assert.Empty(_sink.Written);
        streams.StartChannel("news", "s1", new StreamReplay(2, true, [M(2)]));

        Assert.Equal(
            [Encoding.UTF8.GetString(JsonFrameCodec.SubscribeOk("s1", 2, true)), Pub("news", 2), Pub("news", 3)],
            _sink.Written);
        Assert.True(streams.TryGetChannelLast("news", out var last));
        Assert.Equal(3, last);
    }

    [Fact]
    public void Deliver_RacingTheWelcome_HeldThenWrittenAfterWelcomeWithoutDuplicates()
    {
        var streams = Create();
        streams.Deliver([M(1), M(2)], [Encoding.UTF8.GetBytes(Msg(1)), Encoding.UTF8.GetBytes(Msg(2))]);
        Assert.False(streams.TryGetMailboxLast(out _));

        streams.StartMailbox("welcome"u8.ToArray(), new StreamReplay(1, true, [M(1)]));

        Assert.Equal(["welcome", Msg(1), Msg(2)], _sink.Written);
    }

    [Fact]
    public async Task Deliver_GapInLivePushes_ReadFromTheHistoryThroughTheStreamsAndWrittenInOrder()
    {
        var streams = Create();
        streams.StartMailbox("welcome"u8.ToArray(), new StreamReplay(1, true, []));

        streams.Deliver([M(3)], [Encoding.UTF8.GetBytes(Msg(3))]); // 2 was lost on the way
        Assert.Equal(("alice", 1L), _history.MailboxReads.Single());
        _history.Answer.SetResult(new StreamReplay(3, true, [M(2), M(3)]));

        await WaitUntilAsync(() => _sink.Written.Count == 3);
        Assert.Equal(["welcome", Msg(2), Msg(3)], _sink.Written);
    }

    [Fact]
    public void TryAddChannel_FollowedOrAtLimit_RefusedWithTheReason()
    {
        var streams = Create();
        Assert.Equal(ChannelAdd.Added, streams.TryAddChannel("a", maxChannels: 2));

        Assert.Equal(ChannelAdd.AlreadyFollowed, streams.TryAddChannel("a", maxChannels: 2));
        Assert.Equal(ChannelAdd.Added, streams.TryAddChannel("b", maxChannels: 2));
        Assert.Equal(ChannelAdd.LimitReached, streams.TryAddChannel("c", maxChannels: 2));
        Assert.Equal(2, streams.ChannelCount);
    }

    [Fact]
    public void DeliverPublications_ChannelRemoved_NothingWritten()
    {
        var streams = Create();
        streams.TryAddChannel("news", maxChannels: 4);
        streams.StartChannel("news", null, new StreamReplay(0, true, []));
        _sink.Clear();

        Assert.True(streams.RemoveChannel("news"));
        streams.DeliverPublications("news", [M(1)], Live("news", M(1)));

        Assert.Empty(_sink.Written);
        Assert.Empty(streams.Channels());
    }

    [Fact]
    public void ResyncChannel_HistoryLost_SessionToldToReconnect()
    {
        var streams = Create();
        streams.TryAddChannel("news", maxChannels: 4);
        streams.StartChannel("news", null, new StreamReplay(5, true, []));

        streams.ResyncChannel("news", new StreamReplay(2, false, []), lost: true, reconnectMs: 250);

        Assert.Equal((CloseReason.Draining, 250), _sink.Closed);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 10 s");
            await Task.Yield();
        }
    }

    private sealed class FakeSink : IStreamSink
    {
        private readonly List<string> _written = [];

        public string ClientId => "alice";

        public long SessionId => 1;

        public bool IsClosing => Closed is not null;

        public int OutboxCapacity => 8;

        public (CloseReason Reason, int? ReconnectMs)? Closed { get; private set; }

        /// <summary>Frames written, in order (a snapshot: a repair writes from another thread).</summary>
        public IReadOnlyList<string> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        public void Clear()
        {
            lock (_written)
            {
                _written.Clear();
            }
        }

        public bool Send(byte[] frame)
        {
            lock (_written)
            {
                _written.Add(Encoding.UTF8.GetString(frame));
            }

            return true;
        }

        public void RequestClose(CloseReason reason, int? reconnectMs = null, bool abandonQueued = false) => Closed ??= (reason, reconnectMs);

        public void OverflowHeld() => RequestClose(CloseReason.SlowConsumer, abandonQueued: true);

        public void RepairFailed(Exception? exception) => RequestClose(CloseReason.TryAgainLater);
    }

    private sealed class FakeHistory : IStreamHistory
    {
        public List<(string ClientId, long After)> MailboxReads { get; } = [];

        public TaskCompletionSource<StreamReplay> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<StreamReplay> ReadMailboxSinceAsync(string clientId, long after)
        {
            MailboxReads.Add((clientId, after));
            return Answer.Task;
        }

        public Task<StreamReplay> ReadChannelSinceAsync(string channel, long after) => Answer.Task;
    }
}
