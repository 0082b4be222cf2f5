using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains.Edges;

/// <summary>
/// Frees client and channel grains whose edges died. One sweep per silo, not a timer per grain (a grain timer cost
/// ~1 KB per idle client grain and a tick per grain per interval): every
/// <see cref="RetentionOptions.SessionSweepInterval"/> the sweep asks about the lease of each edge the silo's
/// <see cref="EdgeDirectory"/> knows (a handful of edges, not one question per grain) and pokes the grains tracked on
/// a dead one, which prune it and may then deactivate. The same sweep asks every grain that pushed since the last one
/// to push its newest message again: one-way pushes can be lost, and a loss is otherwise only noticed when the next
/// message shows the gap. It holds no state of its own: what it walks is the directory's.
/// </summary>
internal sealed partial class EdgeSweeper(
    IGrainFactory grains,
    EdgeDirectory edges,
    IOptions<MailboxOptions> mailbox,
    IOptions<ChannelOptions> channel,
    TimeProvider time,
    ILogger<EdgeSweeper> logger) : BackgroundService
{
    /// <summary>Pokes in flight at once, so a dead edge with 100k grains does not flood the silo.</summary>
    private const int PokeConcurrency = 64;

    /// <summary>
    /// A poke not answered by then is given up (the grain is asked again next sweep): a call lost in a silo stop is
    /// answered only by Orleans' 30 s response timeout, and would hold the sweep, and every repair it brings, that long.
    /// </summary>
    private static readonly TimeSpan PokeTimeout = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = Min(mailbox.Value.SessionSweepInterval, channel.Value.SessionSweepInterval);
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // A failed sweep is retried next interval; it must never stop the silo (BackgroundService would).
                    Log.SweepFailed(logger, ex, "*");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Silo stopping.
        }
    }

    internal async Task SweepAsync(CancellationToken cancellationToken)
    {
        await RepushAsync(cancellationToken);
        await DropDeadEdgesAsync(cancellationToken);
    }

    private async Task RepushAsync(CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(
            edges.TakeRepushes(),
            new ParallelOptions { MaxDegreeOfParallelism = PokeConcurrency, CancellationToken = cancellationToken },
            async (grain, _) =>
            {
                try
                {
                    await (grain.Value
                        ? grains.GetGrain<IChannelSubscriptionGrain>(grain.Key).RepushLastAsync()
                        : grains.GetGrain<IClientSessionGrain>(grain.Key).RepushLastAsync()).WaitAsync(PokeTimeout, time);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.PokeFailed(logger, ex, grain.Key);
                }
            });
    }

    private async Task DropDeadEdgesAsync(CancellationToken cancellationToken)
    {
        foreach (var route in edges.Routes)
        {
            bool alive;
            try
            {
                alive = await route.IsAliveAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.SweepFailed(logger, ex, route.EdgeId);
                continue;
            }

            // A dead edge nobody pushes to any more is forgotten (a grain restoring it would add it again).
            if (alive || edges.TryForget(route))
            {
                continue;
            }

            var tracked = route.TrackedGrains();
            Log.DeadEdgeSwept(logger, route.EdgeId, tracked.Length);
            await Parallel.ForEachAsync(
                tracked,
                new ParallelOptions { MaxDegreeOfParallelism = PokeConcurrency, CancellationToken = cancellationToken },
                async (grain, _) => await PokeAsync(grain.Key, grain.Value));
        }
    }

    /// <summary>Any call makes the grain prune edges whose lease lapsed (and untrack them here).</summary>
    private async Task PokeAsync(GrainId grain, bool isChannel)
    {
        try
        {
            if (isChannel)
            {
                await grains.GetGrain<IChannelSubscriptionGrain>(grain).GetEdgeCountAsync().WaitAsync(PokeTimeout, time);
            }
            else
            {
                await grains.GetGrain<IClientSessionGrain>(grain).GetPresenceAsync().WaitAsync(PokeTimeout, time);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.PokeFailed(logger, ex, grain);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Edge {EdgeId} is dead: asking its {Grains} grain(s) on this silo to drop it", EventName = "DeadEdgeSwept")]
        public static partial void DeadEdgeSwept(ILogger logger, string edgeId, int grains);

        [LoggerMessage(21, LogLevel.Warning, "Checking the lease of edge {EdgeId} failed", EventName = "SweepFailed")]
        public static partial void SweepFailed(ILogger logger, Exception exception, string edgeId);

        [LoggerMessage(22, LogLevel.Warning, "Asking grain {Grain} to drop a dead edge failed", EventName = "PokeFailed")]
        public static partial void PokeFailed(ILogger logger, Exception exception, GrainId grain);
    }
}
