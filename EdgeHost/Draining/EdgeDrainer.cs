using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Protocol;

namespace OrleansGateway.EdgeHost.Draining;

/// <summary>A session as the drain sees it.</summary>
internal interface IDrainableSession
{
    bool IsClosing { get; }

    /// <summary>Starts closing with <paramref name="reason"/>.</summary>
    /// <returns>
    /// True when this call started the close (the client gets this reason's <c>bye</c>); false when the session was
    /// already closing or had ended (its client left meanwhile): it gets no <c>bye</c> from this call.
    /// </returns>
    bool RequestClose(CloseReason reason, int? reconnectMs = null, bool abandonQueued = false);

    void Abort();
}

/// <summary>The sessions a drain works through.</summary>
internal interface IDrainableSessions
{
    int Count { get; }

    IReadOnlyList<IDrainableSession> Snapshot();

    /// <summary>Completes when no session is left.</summary>
    Task WhenEmptyAsync();
}

/// <summary>
/// Drains the edge: readiness unhealthy and upgrades refused (via <see cref="DrainState"/>), then
/// <c>bye draining</c> with a jittered <c>reconnect_ms</c> to sessions in paced batches, each session closing
/// with 1012 after flushing what it has queued, all bounded by the deadline. Idempotent: a second SIGTERM or
/// admin request joins the drain in progress.
/// </summary>
internal sealed partial class EdgeDrainer(
    IDrainableSessions sessions,
    DrainState state,
    IOptions<DrainOptions> options,
    TimeProvider time,
    EdgeMetrics metrics,
    ILogger<EdgeDrainer> logger)
{
    private readonly object _gate = new();
    private Task? _drain;

    public Task DrainAsync()
    {
        lock (_gate)
        {
            if (_drain is null)
            {
                state.TryBegin();
                _drain = RunAsync();
            }

            return _drain;
        }
    }

    private async Task RunAsync()
    {
        // Yield first: the caller (SIGTERM handler, admin request) gets its task back at once.
        await Task.Yield();
        using var span = EdgeTracing.StartDrain(sessions.Count);
        var settings = options.Value;
        var started = time.GetUtcNow();
        var deadline = started + settings.Deadline;
        metrics.DrainStarted();
        Log.DrainStarted(logger, sessions.Count, settings.BatchSize, settings.BatchInterval, settings.Deadline);
        try
        {
            var told = 0;
            for (var round = 1; ; round++)
            {
                // Re-snapshot each round: sessions that were mid-handshake when the drain began are included.
                var batch = sessions.Snapshot().Where(s => !s.IsClosing).Take(settings.BatchSize).ToList();
                if (batch.Count == 0)
                {
                    break;
                }

                var pastDeadline = time.GetUtcNow() >= deadline;
                foreach (var session in pastDeadline ? sessions.Snapshot().Where(s => !s.IsClosing).ToList() : batch)
                {
                    // A session that ended meanwhile ignores this (and is not counted as told); nothing here may stop
                    // the drain of the others.
                    told += session.RequestClose(CloseReason.Draining, Jitter(settings.MaxReconnectDelay)) ? 1 : 0;
                }

                if (pastDeadline || !sessions.Snapshot().Any(s => !s.IsClosing))
                {
                    break;
                }

                // Batches run on a fixed schedule (start + round × interval), capped by the deadline: no drift.
                var next = Min(started + (settings.BatchInterval * round), deadline);
                var pause = next - time.GetUtcNow();
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause, time);
                }
            }

            var left = deadline - time.GetUtcNow();
            if (sessions.Count > 0 && left > TimeSpan.Zero)
            {
                await Task.WhenAny(sessions.WhenEmptyAsync(), Task.Delay(left, time));
            }

            var remaining = sessions.Snapshot();
            foreach (var session in remaining)
            {
                // Past the deadline: whatever is left is closed now.
                session.Abort();
            }

            Log.DrainCompleted(logger, told, remaining.Count, time.GetUtcNow() - started);
        }
        finally
        {
            metrics.DrainEnded();
        }
    }

    private static int Jitter(TimeSpan max) => max <= TimeSpan.Zero ? 0 : Random.Shared.Next(0, (int)max.TotalMilliseconds + 1);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(600, LogLevel.Information, "Draining {Sessions} session(s): batches of {BatchSize} every {BatchInterval}, deadline {Deadline}", EventName = "DrainStarted")]
        public static partial void DrainStarted(ILogger logger, int sessions, int batchSize, TimeSpan batchInterval, TimeSpan deadline);

        [LoggerMessage(601, LogLevel.Information, "Drain done: {Told} session(s) told to reconnect, {Aborted} aborted at the deadline, in {Elapsed}", EventName = "DrainCompleted")]
        public static partial void DrainCompleted(ILogger logger, int told, int aborted, TimeSpan elapsed);
    }
}
