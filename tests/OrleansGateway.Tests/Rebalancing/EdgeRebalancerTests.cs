using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Draining;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.EdgeHost.Rebalancing;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Rebalancing;

public sealed class EdgeRebalancerTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new();
    private readonly Sessions _sessions = new();
    private readonly Registry _registry = new();
    private readonly LocalEdge _edge = new();
    private readonly DrainState _drain = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private long _shedMetric;
    private readonly CancellationTokenSource _stop = new();

    public EdgeRebalancerTests()
    {
        _edge.SetHeld(true);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EdgeMetrics.MeterName && instrument.Name == "ogw.edge.rebalance.shed")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _shedMetric, value));
        _listener.Start();
    }

    private EdgeRebalancer Create(int batchSize = 40, int floor = 0, TimeSpan? maxReconnect = null) => new(
        _registry, _sessions, _edge, _drain,
        Microsoft.Extensions.Options.Options.Create(Settings(batchSize, floor, maxReconnect)),
        _time,
        new RebalanceMetrics(_services.GetRequiredService<IMeterFactory>()),
        NullLogger<EdgeRebalancer>.Instance);

    private static async Task Until(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(1, cts.Token);
        }
    }

    [Fact]
    public async Task Rebalancer_200SessionsOtherEdgeEmpty_OneBatchPerTwoIntervalsUntilTheMeanThenStops()
    {
        _sessions.Add(200);
        _registry.Others = () => [new EdgeLoad("other", 200 - _sessions.Count)]; // the shed clients all land on the other edge
        var loop = Create(batchSize: 40).RunAsync(_stop.Token);

        _time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, _registry.Reports); // nothing before the first interval
        // A batch, a round that only reports, a batch: 200 → 160 → 120, within 20 % of the mean (100), so it stops.
        var expected = new[] { 40, 40, 80, 80, 80, 80 };
        for (var round = 0; round < expected.Length; round++)
        {
            _time.Advance(round == 0 ? TimeSpan.FromMilliseconds(1) : Interval);
            await Until(() => _registry.Reports == round + 1);
            await Until(() => _sessions.Told == expected[round]);
        }

        Assert.Equal(6, _registry.Reports);
        Assert.Equal(80, _sessions.Told);
        Assert.All(_sessions.ToldSessions, s => Assert.Equal(CloseReason.Draining, s.Reason));
        Assert.All(_sessions.ToldSessions, s => Assert.InRange(s.ReconnectMs!.Value, 0, 2000));
        Assert.Equal(80, Interlocked.Read(ref _shedMetric));
        await _stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Rebalancer_Draining_NeitherReportsNorSheds()
    {
        _sessions.Add(200);
        _registry.Others = () => [new EdgeLoad("other", 0)];
        _drain.TryBegin();
        var told = await Create().RunRoundAsync(Settings(), CancellationToken.None);
        Assert.Equal(0, told);
        Assert.Equal(0, _registry.Reports);
    }

    [Fact]
    public async Task Rebalancer_RebalancingOff_ReportsItsCountAsNotRebalancingAndNeverSheds()
    {
        _sessions.Add(200);
        _registry.Others = () => [new EdgeLoad("other", 0)];
        var settings = Settings();
        settings.Enabled = false;

        Assert.Equal(0, await Create().RunRoundAsync(settings, CancellationToken.None));
        Assert.Equal(1, _registry.Reports);
        Assert.Equal(200, _registry.Last.Connections);
        Assert.False(_registry.LastRebalances);
        Assert.All(_sessions.All, s => Assert.Equal(0, s.TimesTold));
    }

    [Fact]
    public async Task Rebalancer_NoLease_NeitherReportsNorSheds()
    {
        _sessions.Add(200);
        _registry.Others = () => [new EdgeLoad("other", 0)];
        _edge.SetHeld(false);
        Assert.Equal(0, await Create().RunRoundAsync(Settings(), CancellationToken.None));
        Assert.Equal(0, _registry.Reports);
    }

    [Fact]
    public async Task Rebalancer_ReportFails_NobodyShedAndTheNextRoundTriesAgain()
    {
        _sessions.Add(200);
        _registry.Others = () => throw new TimeoutException("registry unreachable");
        var rebalancer = Create();
        Assert.Equal(0, await rebalancer.RunRoundAsync(Settings(), CancellationToken.None));
        _registry.Others = () => [new EdgeLoad("other", 0)];
        Assert.Equal(40, await rebalancer.RunRoundAsync(Settings(), CancellationToken.None));
        Assert.Equal(2, _registry.Reports);
    }

    [Fact]
    public async Task Rebalancer_ReportedCount_IsTheEdgesSessionsWithItsIdAndTtlOfThreeIntervals()
    {
        _sessions.Add(7);
        _registry.Others = () => [];
        await Create().RunRoundAsync(Settings(), CancellationToken.None);
        Assert.Equal((_edge.EdgeId, 7, Interval * 3), _registry.Last);
    }

    [Fact]
    public async Task Rebalancer_SessionsAlreadyClosing_NeitherCountedNorToldAgain()
    {
        _sessions.LeaveWhenTold = false;
        _sessions.Add(100);
        foreach (var s in _sessions.All.Take(90))
        {
            s.RequestClose(CloseReason.Draining); // a drain or slow-consumer close in progress: still counted until gone
        }

        _registry.Others = () => [new EdgeLoad("other", 0)];

        // 10 open sessions against 0: down to the mean, 5; the closing ones are neither counted nor told again.
        Assert.Equal(5, await Create(batchSize: 100).RunRoundAsync(Settings(batchSize: 100), CancellationToken.None));
        Assert.Equal(10, _registry.Last.Connections);
        Assert.Equal(95, _sessions.All.Count(s => s.TimesTold == 1));
        Assert.Equal(5, _sessions.All.Count(s => s.TimesTold == 0));
    }

    [Fact]
    public async Task Rebalancer_SessionsStartClosingWhileTheRoundReports_NotCountedAsShed()
    {
        _sessions.LeaveWhenTold = false;
        _sessions.Add(10);
        var open = _sessions.All;
        _registry.Others = () =>
        {
            // Between the round's snapshot and its shedding (the report is a cluster call): every client leaves.
            foreach (var s in open)
            {
                s.RequestClose(CloseReason.Normal, abandonQueued: true);
            }

            return [new EdgeLoad("other", 0)];
        };

        // 10 against 0 would shed 5, but none of them gets a bye from this round: none is counted, by the round or the metric.
        Assert.Equal(0, await Create(batchSize: 100).RunRoundAsync(Settings(batchSize: 100), CancellationToken.None));
        Assert.Equal(0, Interlocked.Read(ref _shedMetric));
        Assert.All(_sessions.All, s => Assert.Equal(CloseReason.Normal, s.Reason));
    }

    private static RebalanceOptions Settings(int batchSize = 40, int floor = 0, TimeSpan? maxReconnect = null) => new()
    {
        Enabled = true,
        Interval = Interval,
        Tolerance = 0.2,
        MinConnections = floor,
        BatchSize = batchSize,
        MaxReconnectDelay = maxReconnect ?? TimeSpan.FromSeconds(2),
    };

    public void Dispose()
    {
        _stop.Dispose();
        _listener.Dispose();
        _services.Dispose();
    }

    private sealed class Registry : IEdgeLoadRegistry
    {
        private int _reports;

        public Func<EdgeLoad[]> Others { get; set; } = () => [];

        public int Reports => Volatile.Read(ref _reports);

        public (string EdgeId, int Connections, TimeSpan Ttl) Last { get; private set; }

        public bool? LastRebalances { get; private set; }

        public Task<EdgeLoad[]> ReportAsync(string edgeId, int connections, bool rebalances, TimeSpan ttl)
        {
            Last = (edgeId, connections, ttl);
            LastRebalances = rebalances;
            try
            {
                return Task.FromResult<EdgeLoad[]>([new EdgeLoad(edgeId, connections), .. Others()]);
            }
            finally
            {
                Interlocked.Increment(ref _reports);
            }
        }
    }

    private sealed class Sessions : IDrainableSessions
    {
        private readonly List<Session> _all = [];

        public IReadOnlyList<Session> All
        {
            get
            {
                lock (_all)
                {
                    return [.. _all];
                }
            }
        }

        public IEnumerable<Session> ToldSessions => All.Where(s => s.TimesTold > 0);

        public int Told => All.Count(s => s.TimesTold > 0);

        /// <summary>When true, sessions told leave at once, as clients that reconnect elsewhere do.</summary>
        public bool LeaveWhenTold { get; set; } = true;

        public int Count => LeaveWhenTold ? All.Count(s => s.TimesTold == 0) : All.Count;

        public void Add(int count)
        {
            lock (_all)
            {
                for (var i = 0; i < count; i++)
                {
                    _all.Add(new Session());
                }
            }
        }

        public IReadOnlyList<IDrainableSession> Snapshot() => All.Where(s => s.TimesTold == 0).ToList();

        public Task WhenEmptyAsync() => Task.CompletedTask;
    }

    private sealed class Session : IDrainableSession
    {
        public bool IsClosing => TimesTold > 0;

        public int TimesTold { get; private set; }

        public CloseReason? Reason { get; private set; }

        public int? ReconnectMs { get; private set; }

        /// <summary>As a real session: only the call that starts the close gets the client a bye.</summary>
        public bool RequestClose(CloseReason reason, int? reconnectMs = null, bool abandonQueued = false)
        {
            TimesTold++;
            if (TimesTold > 1)
            {
                return false;
            }

            Reason = reason;
            ReconnectMs = reconnectMs;
            return true;
        }

        public void Abort()
        {
        }
    }
}
