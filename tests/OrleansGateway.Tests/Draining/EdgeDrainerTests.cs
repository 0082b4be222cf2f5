using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Draining;
using OrleansGateway.EdgeHost.Protocol;

namespace OrleansGateway.Tests.Draining;

public sealed class EdgeDrainerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly TimerCountingTimeProvider _clock;
    private readonly FakeSessions _sessions = new();
    private readonly DrainState _state = new();

    private EdgeDrainer Create(int batchSize, TimeSpan interval, TimeSpan deadline, TimeSpan? maxReconnect = null) =>
        new(_sessions, _state,
            Options.Create(new DrainOptions { BatchSize = batchSize, BatchInterval = interval, Deadline = deadline, MaxReconnectDelay = maxReconnect ?? TimeSpan.FromSeconds(2) }),
            _clock,
            new EdgeMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>()),
            NullLogger<EdgeDrainer>.Instance);

    private static async Task Until(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(1, cts.Token);
        }
    }

    [Fact]
    public async Task Drain_TenSessionsBatchesOfThree_OneBatchPerIntervalInOrder()
    {
        _sessions.Add(10, leaveWhenTold: true);
        var drain = Create(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)).DrainAsync();

        // Advance the clock only once the drainer has armed its timer: advancing earlier would move the
        // timer's start, not fire it.
        await Until(() => _sessions.Told == 3 && _clock.TimersCreated == 1);
        Assert.True(_state.IsDraining);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(3, _sessions.Told); // not before the interval
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Until(() => _sessions.Told == 6 && _clock.TimersCreated == 2);
        _time.Advance(TimeSpan.FromSeconds(1));
        await Until(() => _sessions.Told == 9 && _clock.TimersCreated == 3);
        _time.Advance(TimeSpan.FromSeconds(1));
        await drain.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(10, _sessions.Told);
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 2, 3], _sessions.All.Select(s => (int)s.ToldAt!.Value.TotalSeconds));
        Assert.All(_sessions.All, s => Assert.Equal(CloseReason.Draining, s.Reason));
        Assert.All(_sessions.All, s => Assert.InRange(s.ReconnectMs!.Value, 0, 2000));
        Assert.Equal(0, _sessions.Aborted);
    }

    [Fact]
    public async Task Drain_DeadlineBeforeLastBatch_RestToldAtDeadlineAndStragglersAborted()
    {
        _sessions.Add(4, leaveWhenTold: false); // clients that never close
        var drain = Create(1, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(7)).DrainAsync();

        await Until(() => _sessions.Told == 1 && _clock.TimersCreated == 1);
        _time.Advance(TimeSpan.FromSeconds(5));
        await Until(() => _sessions.Told == 2 && _clock.TimersCreated == 2);
        _time.Advance(TimeSpan.FromSeconds(2)); // the deadline: the remaining two are told at once, then aborted
        await drain.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(4, _sessions.Told);
        Assert.Equal([0, 5, 7, 7], _sessions.All.Select(s => (int)s.ToldAt!.Value.TotalSeconds));
        Assert.Equal(4, _sessions.Aborted);
    }

    [Fact]
    public async Task Drain_CalledTwice_SameDrainNotRestarted()
    {
        _sessions.Add(2, leaveWhenTold: true);
        var drainer = Create(1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var first = drainer.DrainAsync();
        var second = drainer.DrainAsync();
        Assert.Same(first, second);
        await Until(() => _sessions.Told == 1 && _clock.TimersCreated == 1);
        _time.Advance(TimeSpan.FromSeconds(1));
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, _sessions.Told);
        Assert.All(_sessions.All, s => Assert.Equal(1, s.TimesTold));
    }

    [Fact]
    public async Task Drain_NoSessions_CompletesAtOnceAndStaysDraining()
    {
        await Create(10, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30)).DrainAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(_state.IsDraining);
    }

    private sealed class FakeSessions : IDrainableSessions
    {
        private readonly List<FakeSession> _sessions = [];
        private readonly TaskCompletionSource _empty = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<FakeSession> All => _sessions;

        public int Told => _sessions.Count(s => s.TimesTold > 0);

        public int Aborted => _sessions.Count(s => s.WasAborted);

        public int Count
        {
            get
            {
                lock (_sessions)
                {
                    return _sessions.Count(s => !s.Gone);
                }
            }
        }

        public void Add(int count, bool leaveWhenTold)
        {
            for (var i = 0; i < count; i++)
            {
                _sessions.Add(new FakeSession(this, leaveWhenTold));
            }
        }

        public IReadOnlyList<IDrainableSession> Snapshot()
        {
            lock (_sessions)
            {
                return _sessions.Where(s => !s.Gone).ToList();
            }
        }

        public Task WhenEmptyAsync() => Count == 0 ? Task.CompletedTask : _empty.Task;

        internal void Left()
        {
            if (Count == 0)
            {
                _empty.TrySetResult();
            }
        }
    }

    private sealed class FakeSession(FakeSessions owner, bool leaveWhenTold) : IDrainableSession
    {
        private static readonly DateTimeOffset Start = new FakeTimeProvider().GetUtcNow();

        public bool IsClosing => TimesTold > 0;

        public int TimesTold { get; private set; }

        public TimeSpan? ToldAt { get; private set; }

        public CloseReason? Reason { get; private set; }

        public int? ReconnectMs { get; private set; }

        public bool Gone { get; private set; }

        public bool WasAborted { get; private set; }

        public bool RequestClose(CloseReason reason, int? reconnectMs = null, bool abandonQueued = false)
        {
            var started = TimesTold == 0;
            TimesTold++;
            Reason = reason;
            ReconnectMs = reconnectMs;
            ToldAt = Clock.Now - Start;
            if (leaveWhenTold)
            {
                Gone = true;
                owner.Left();
            }

            return started;
        }

        public void Abort() => WasAborted = true;
    }

    /// <summary>The test's fake clock, visible to fake sessions.</summary>
    private static class Clock
    {
        public static FakeTimeProvider? Current { get; set; }

        public static DateTimeOffset Now => Current!.GetUtcNow();
    }

    public EdgeDrainerTests()
    {
        Clock.Current = _time;
        _clock = new TimerCountingTimeProvider(_time);
    }

    /// <summary>The fake clock, counting the timers the drainer arms so the test knows when advancing fires one.</summary>
    private sealed class TimerCountingTimeProvider(FakeTimeProvider inner) : TimeProvider
    {
        private int _timersCreated;

        public int TimersCreated => Volatile.Read(ref _timersCreated);

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = inner.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timersCreated);
            return timer;
        }
    }
}
