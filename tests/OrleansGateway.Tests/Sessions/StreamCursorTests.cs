using System.Text;
using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Sessions;

public sealed class StreamCursorTests
{
    private readonly FakeOwner _owner = new();
    private readonly List<long> _fetches = [];
    private TaskCompletionSource<StreamReplay> _fetch = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StreamCursorTests()
    {
        _owner.Fetch = after =>
        {
            lock (_fetches)
            {
                _fetches.Add(after);
            }

            return _fetch.Task;
        };
    }

    private StreamCursor Create() => new(_owner, channel: null);

    private static StreamMessage M(long seq) => new(seq, "a", Encoding.UTF8.GetBytes(seq.ToString()), 0);

    private static byte[][] Frames(params StreamMessage[] messages) => messages.Select(m => Encoding.UTF8.GetBytes($"live{m.Seq}")).ToArray();

    private void Deliver(StreamCursor cursor, params StreamMessage[] messages)
    {
        lock (_owner.Gate)
        {
            cursor.Deliver(messages, Frames(messages));
        }
    }

    [Fact]
    public void Start_LivePushRacedTheReply_HeldThenWrittenAfterReplayWithoutDuplicates()
    {
        var cursor = Create();
        Deliver(cursor, M(3), M(4)); // pushes that arrived before the attach reply
        lock (_owner.Gate)
        {
            cursor.Start("welcome"u8.ToArray(), new StreamReplay(3, true, [M(2), M(3)]));
        }

        Assert.Equal(["welcome", "m2", "m3", "m4"], _owner.Written);
        Assert.Empty(_fetches);
    }

    [Fact]
    public async Task Deliver_GapInLivePushes_FetchesTheGapAndWritesInOrder()
    {
        var cursor = Create();
        lock (_owner.Gate)
        {
            cursor.Start("welcome"u8.ToArray(), new StreamReplay(1, true, []));
        }

        Deliver(cursor, M(2));
        Deliver(cursor, M(5)); // 3 and 4 were lost on the way
        Deliver(cursor, M(6)); // arrives while repairing: held
        Assert.Equal([2L], _fetches.Distinct()); // one fetch, after the last seq written
        _fetches.Clear();
        Assert.Equal(["welcome", "live2"], _owner.Written);

        _fetch.SetResult(new StreamReplay(5, true, [M(3), M(4), M(5)]));
        await _owner.WaitForAsync(5);
        Assert.Equal(["welcome", "live2", "m3", "m4", "m5", "m6"], _owner.Written);

        Deliver(cursor, M(5), M(7)); // a late duplicate is dropped, the next one flows
        Assert.Equal(["welcome", "live2", "m3", "m4", "m5", "m6", "live7"], _owner.Written);
        Assert.Null(_owner.RepairError);
    }

    [Fact]
    public async Task Deliver_GapNoLongerRetained_SessionClosedSoClientResumes()
    {
        var cursor = Create();
        lock (_owner.Gate)
        {
            cursor.Start("welcome"u8.ToArray(), new StreamReplay(1, true, []));
        }

        Deliver(cursor, M(9));
        _fetch.SetResult(new StreamReplay(9, false, [M(8), M(9)]));
        await _owner.WaitForRepairFailureAsync();
        Assert.Equal(["welcome"], _owner.Written); // nothing after a hole is ever written
    }

    [Fact]
    public void Deliver_HeldBeyondOutboxCapacity_OverflowReported()
    {
        var cursor = Create(); // never started: everything is held
        for (var i = 1; i <= _owner.OutboxCapacity + 1; i++)
        {
            Deliver(cursor, M(i));
        }

        Assert.True(_owner.Overflowed);
    }

    private sealed class FakeOwner : ICursorOwner
    {
        private readonly List<string> _written = [];
        private readonly TaskCompletionSource _repairFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public object Gate { get; } = new();

        public Func<long, Task<StreamReplay>> Fetch { get; set; } = null!;

        public Task<StreamReplay> FetchSinceAsync(string? channel, long after) => Fetch(after);

        public byte[] Encode(string? channel, StreamMessage message) => Encoding.UTF8.GetBytes($"m{message.Seq}");

        public bool IsClosing => false;

        public int OutboxCapacity => 8;

        public bool Overflowed { get; private set; }

        public Exception? RepairError { get; private set; }

        public IReadOnlyList<string> Written
        {
            get
            {
                lock (Gate)
                {
                    return [.. _written];
                }
            }
        }

        public bool Send(byte[] frame)
        {
            lock (Gate)
            {
                _written.Add(Encoding.UTF8.GetString(frame));
            }

            return true;
        }

        public void OverflowHeld() => Overflowed = true;

        public void RepairFailed(Exception? exception)
        {
            RepairError = exception ?? new InvalidOperationException("not recoverable");
            _repairFailed.TrySetResult();
        }

        public async Task WaitForAsync(int count)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (Written.Count < count + 1)
            {
                await Task.Delay(1, cts.Token);
            }
        }

        public Task WaitForRepairFailureAsync() => _repairFailed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
