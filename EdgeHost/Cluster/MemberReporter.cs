using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// This edge's channel members, reported to channel grains in batches: <see cref="ChannelSubscriptions"/> tells it
/// each session that starts or stops following a channel, and every <see cref="PresenceReportOptions.ReportInterval"/>
/// it sends each changed channel one <see cref="MemberReport"/> with the per-client session counts that changed. So
/// 10,000 joins in a second on one edge cost a channel grain about 5 calls, and a client that leaves and returns to
/// this edge within an interval (a reconnect) is not reported at all.
/// </summary>
/// <remarks>
/// Counts are absolute, so a report that failed is simply sent again in full (<see cref="MemberReport.Full"/>) at the
/// next interval; so is a channel whose grain may have lost this edge (<see cref="ReportAllAgain"/>).
/// </remarks>
internal sealed partial class MemberReporter(
    Func<string, MemberReport, Task<bool>> report, TimeSpan interval, TimeProvider time, ILogger<MemberReporter> logger) : BackgroundService
{
    /// <summary>Reports in flight at once: a flush after a mass reconnect must not stampede the silos.</summary>
    private const int Concurrency = 16;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LocalMembers> _channels = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);

    /// <summary>A session of <paramref name="clientId"/> follows <paramref name="channel"/> now.</summary>
    public void Joined(string channel, string clientId, bool watching) => Change(channel, clientId, +1, watching);

    /// <summary>A session of <paramref name="clientId"/> stopped following <paramref name="channel"/>.</summary>
    public void Left(string channel, string clientId, bool watching) => Change(channel, clientId, -1, watching);

    /// <summary>The channel's grain may have lost this edge's members (it re-registered): report them all next time.</summary>
    public void ReportAllAgain(string channel)
    {
        lock (_gate)
        {
            if (_channels.TryGetValue(channel, out var local))
            {
                local.Full = true;
                _dirty.Add(channel);
            }
        }
    }

    /// <summary>Sends every changed channel's report once (the timer's work; tests call it directly too).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        List<(string Channel, MemberReport Report)> reports;
        lock (_gate)
        {
            reports = new(_dirty.Count);
            foreach (var channel in _dirty)
            {
                if (_channels.TryGetValue(channel, out var local) && Take(channel, local) is { } taken)
                {
                    reports.Add((channel, taken));
                }
            }

            _dirty.Clear();
        }

        await Parallel.ForEachAsync(
            reports,
            new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken },
            async (item, _) =>
            {
                var applied = false;
                try
                {
                    applied = await report(item.Channel, item.Report);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.ReportFailed(logger, ex, item.Channel);
                }

                if (!applied)
                {
                    ReportAllAgain(item.Channel);
                }
            });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Edge stopping: its channel grains drop its members when it unsubscribes or its lease lapses.
        }
    }

    private void Change(string channel, string clientId, int delta, bool watching)
    {
        lock (_gate)
        {
            if (!_channels.TryGetValue(channel, out var local))
            {
                _channels[channel] = local = new LocalMembers();
            }

            var count = local.Counts.GetValueOrDefault(clientId) + delta;
            if (count > 0)
            {
                local.Counts[clientId] = count;
            }
            else
            {
                local.Counts.Remove(clientId);
            }

            local.Watchers += watching ? delta : 0;
            local.Changed.Add(clientId);
            _dirty.Add(channel);
        }
    }

    /// <summary>Under the gate: what changed since the last report, marked as reported; null when nothing did.</summary>
    private MemberReport? Take(string channel, LocalMembers local)
    {
        var watching = local.Watchers > 0;
        var counts = new List<MemberCount>();
        if (local.Full)
        {
            foreach (var (clientId, count) in local.Counts)
            {
                counts.Add(new MemberCount(clientId, count));
            }
        }
        else
        {
            // Only the clients touched since the last report, not the whole channel; net-zero changes (left and came
            // back) are not reported.
            foreach (var clientId in local.Changed)
            {
                var count = local.Counts.GetValueOrDefault(clientId);
                if (local.Reported.GetValueOrDefault(clientId) != count)
                {
                    counts.Add(new MemberCount(clientId, count));
                }
            }
        }

        local.Changed.Clear();

        var full = local.Full;
        if (counts.Count == 0 && !full && watching == local.ReportedWatching)
        {
            return null;
        }

        if (full)
        {
            local.Reported = new Dictionary<string, int>(local.Counts, StringComparer.Ordinal);
        }
        else
        {
            // Only what changed: a busy channel's full copy per interval would cost more than the joins themselves.
            foreach (var change in counts)
            {
                if (change.Sessions > 0)
                {
                    local.Reported[change.ClientId] = change.Sessions;
                }
                else
                {
                    local.Reported.Remove(change.ClientId);
                }
            }
        }

        local.ReportedWatching = watching;
        local.Full = false;
        if (local.Counts.Count == 0 && local.Watchers == 0)
        {
            _channels.Remove(channel);
        }

        return new MemberReport([.. counts], watching, full);
    }

    /// <summary>One channel's local sessions per client, and what the grain was last told.</summary>
    private sealed class LocalMembers
    {
        public Dictionary<string, int> Counts { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, int> Reported { get; set; } = new(StringComparer.Ordinal);

        public HashSet<string> Changed { get; } = new(StringComparer.Ordinal);

        public int Watchers { get; set; }

        public bool ReportedWatching { get; set; }

        public bool Full { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(1400, LogLevel.Debug, "Reporting members of channel {Channel} failed; reporting them all next time", EventName = "MemberReportFailed")]
        public static partial void ReportFailed(ILogger logger, Exception exception, string channel);
    }
}
