using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Members;

public sealed class MemberReporterTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<(string Channel, MemberReport Report)> _sent = new();
    private Func<bool> _answer = () => true;

    private MemberReporter NewReporter() => new(
        (channel, report) =>
        {
            _sent.Enqueue((channel, report));
            return Task.FromResult(_answer());
        },
        Interval,
        _time,
        NullLogger<MemberReporter>.Instance);

    private async Task<(string Channel, MemberReport Report)[]> TickAsync(int expected)
    {
        // BackgroundService starts its loop on the thread pool: the timer may not exist at the first advance, so time
        // moves one interval at a time until the reports are there (extra intervals send nothing: nothing changed).
        using var cts = new CancellationTokenSource(Timeout);
        while (_sent.Count < expected)
        {
            _time.Advance(Interval);
            await Task.Delay(5, cts.Token); // polling a condition, bounded by the timeout
        }

        var reports = _sent.ToArray();
        _sent.Clear();
        return reports;
    }

    [Fact]
    public async Task ManyJoinsWithinInterval_OneReportPerChannel()
    {
        using var reporter = NewReporter();
        await reporter.StartAsync(CancellationToken.None);
        for (var i = 0; i < 1_000; i++)
        {
            reporter.Joined("room", $"c{i}", watching: false);
        }

        reporter.Joined("lobby", "c1", watching: true);
        var reports = await TickAsync(2);

        Assert.Equal(2, reports.Length);
        var room = Assert.Single(reports, r => r.Channel == "room").Report;
        Assert.Equal(1_000, room.Counts.Length);
        Assert.False(room.Watching);
        Assert.True(Assert.Single(reports, r => r.Channel == "lobby").Report.Watching);
        await reporter.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task SecondTab_ReportedAsSessionCountNotSecondClient()
    {
        using var reporter = NewReporter();
        await reporter.StartAsync(CancellationToken.None);
        reporter.Joined("room", "alice", watching: false);
        reporter.Joined("room", "alice", watching: false);

        var report = Assert.Single(await TickAsync(1)).Report;

        Assert.Equal([new MemberCount("alice", 2)], report.Counts);
        await reporter.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task LeaveAndRejoinWithinInterval_NothingReported()
    {
        using var reporter = NewReporter();
        reporter.Joined("room", "alice", watching: false);
        await reporter.FlushAsync(CancellationToken.None);
        _sent.Clear();

        reporter.Left("room", "alice", watching: false);
        reporter.Joined("room", "alice", watching: false);
        await reporter.FlushAsync(CancellationToken.None);

        Assert.Empty(_sent);
    }

    [Fact]
    public async Task LastSessionLeft_ReportsZero()
    {
        using var reporter = NewReporter();
        reporter.Joined("room", "alice", watching: false);
        await reporter.FlushAsync(CancellationToken.None);
        _sent.Clear();

        reporter.Left("room", "alice", watching: false);
        await reporter.FlushAsync(CancellationToken.None);

        Assert.Equal([new MemberCount("alice", 0)], Assert.Single(_sent).Report.Counts);
    }

    [Fact]
    public async Task ReportRefused_NextReportIsFull()
    {
        using var reporter = NewReporter();
        reporter.Joined("room", "alice", watching: false);
        reporter.Joined("room", "bob", watching: false);
        _answer = () => false;
        await reporter.FlushAsync(CancellationToken.None);
        _sent.Clear();
        _answer = () => true;

        await reporter.FlushAsync(CancellationToken.None);

        var report = Assert.Single(_sent).Report;
        Assert.True(report.Full);
        Assert.Equal(["alice", "bob"], report.Counts.Select(c => c.ClientId).Order());
    }
}
