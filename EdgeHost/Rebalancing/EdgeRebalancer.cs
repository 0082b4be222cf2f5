using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Draining;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Rebalancing;

/// <summary>
/// Evens out connections across edges (<c>Gateway:Rebalance</c>, off by default). Every interval the edge reports its
/// session count to the cluster's <see cref="IEdgeLoadGrain"/> (rebalancing on or off: that is also the cluster info's
/// view of the edges), gets every live edge's count back, and, with rebalancing on, when it holds
/// clearly more than the mean, tells at most one batch of its sessions <c>bye draining</c> with a jittered
/// <c>reconnect_ms</c>, as a drain does: they resume with <c>last_seq</c> wherever the load balancer (or the SDK's url
/// list) sends them, losing nothing. Nothing while the edge drains or holds no lease.
/// </summary>
/// <remarks>
/// Clients go back through the load balancer, so some land on the same edge again; the next rounds catch up with them.
/// The others' counts are up to one interval old, and the clients just told need up to <c>MaxReconnectDelay</c> (at most
/// one interval) to arrive: so after a round that shed, the next round only reports, and the one after decides on counts
/// that include them. Without that pause an edge sheds again on counts that do not show its last batch yet and
/// overshoots the mean (measured: 24 → 19 of 40 with two edges).
/// </remarks>
internal sealed partial class EdgeRebalancer(
    IEdgeLoadRegistry registry,
    IDrainableSessions sessions,
    LocalEdge edge,
    DrainState drain,
    IOptions<RebalanceOptions> options,
    TimeProvider time,
    RebalanceMetrics metrics,
    ILogger<EdgeRebalancer> logger) : BackgroundService
{
    private bool _settling;

    // Runs with rebalancing off too: every edge reports its count (the server API's cluster info lists them all), only
    // rebalancing edges act on the answer.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(stoppingToken);

    /// <summary>One round per interval on a fixed schedule (a slow round delays the next, never adds one).</summary>
    internal async Task RunAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Enabled)
        {
            Log.Enabled(logger, settings);
        }

        using var timer = new PeriodicTimer(settings.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunRoundAsync(settings, stoppingToken);
        }
    }

    /// <summary>Reports, decides, sheds; returns how many sessions were told (closes started). One round at a time (the loop awaits it).</summary>
    internal async Task<int> RunRoundAsync(RebalanceOptions settings, CancellationToken stoppingToken)
    {
        if (!edge.IsHeld || drain.IsDraining)
        {
            return 0; // a draining edge sends everyone away anyway; without a lease it is not part of the cluster's view
        }

        // Sessions already told to close (a slow consumer, a previous round) are leaving: counting them would shed
        // their replacements too while they finish their close handshake (up to Gateway:Edge:CloseTimeout).
        var open = sessions.Snapshot().Where(s => !s.IsClosing).ToArray();
        EdgeLoad[] loads;
        try
        {
            loads = await registry.ReportAsync(edge.EdgeId, open.Length, settings.Enabled, settings.ReportTtl);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // Next round asks again; meanwhile nobody is shed on counts we do not have.
            Log.ReportFailed(logger, ex);
            return 0;
        }

        if (!settings.Enabled)
        {
            return 0; // reported for the cluster's view; shedding is off
        }

        if (_settling)
        {
            _settling = false; // this round only reported; the next decides on counts that show the last batch
            return 0;
        }

        var shed = RebalancePlan.SessionsToShed(edge.EdgeId, open.Length, loads, settings);
        if (shed == 0 || drain.IsDraining)
        {
            return 0;
        }

        var told = Shed(open, shed, settings.MaxReconnectDelay);
        _settling = true;
        metrics.Shed(told);
        Log.Shedding(logger, told, open.Length, loads.Sum(l => (long)l.Connections), loads.Length);
        return told;
    }

    /// <summary>The one place sessions are told to go: <c>bye draining</c> (the protocol's "reconnect with last_seq"), then close 1012.</summary>
    private static int Shed(IDrainableSession[] candidates, int count, TimeSpan maxReconnectDelay)
    {
        // Random victims: no client is always the one moved, and no order of connection decides it.
        Random.Shared.Shuffle(candidates);
        var told = 0;
        for (var i = 0; i < Math.Min(count, candidates.Length); i++)
        {
            var jitter = maxReconnectDelay <= TimeSpan.Zero ? 0 : Random.Shared.Next(0, (int)maxReconnectDelay.TotalMilliseconds + 1);

            // Only a close this call started counts: a session that began closing since the snapshot (its client left,
            // a slow-consumer close) gets no bye from it, and counting it would make the shed metric claim a move that
            // never happened. Its slot is not refilled: the next round decides on fresh counts.
            told += candidates[i].RequestClose(CloseReason.Draining, jitter) ? 1 : 0;
        }

        return told;
    }

    private static partial class Log
    {
        [LoggerMessage(1300, LogLevel.Information, "Connection rebalancing on: {Options}", EventName = "RebalanceEnabled")]
        public static partial void Enabled(ILogger logger, RebalanceOptions options);

        [LoggerMessage(1301, LogLevel.Information, "Rebalancing: telling {Told} of {Own} session(s) to reconnect elsewhere ({Total} across {Edges} edge(s))", EventName = "RebalanceShedding")]
        public static partial void Shedding(ILogger logger, int told, int own, long total, int edges);

        [LoggerMessage(1302, LogLevel.Warning, "Reporting this edge's connection count failed; not rebalancing this round", EventName = "RebalanceReportFailed")]
        public static partial void ReportFailed(ILogger logger, Exception exception);
    }
}
