using System.Threading.Channels;
using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// Re-attaches this edge's sessions and channel subscriptions after the Orleans client lost a gateway connection: a
/// crashed silo's client and channel grains come back elsewhere (once the cluster declares it dead) without their
/// sessions and edges, so connected clients would otherwise stop receiving in silence. Every local session is attached
/// again with the seq it last got (newer messages follow in order; a mailbox that lost what the session saw gets it
/// told <c>bye draining</c>, 1012), and every subscribed channel likewise with the offset the edge saw. Calls are paced
/// and those that fail are retried for <see cref="ResyncOptions.RetryFor"/>; what still fails then is told to reconnect.
/// </summary>
internal sealed partial class EdgeResync(
    SessionRegistry registry,
    ChannelSubscriptions channels,
    GrainRefs grains,
    GrainCallPolicy calls,
    LocalEdge edge,
    IOptions<ResyncOptions> options,
    IOptions<DrainOptions> drain,
    IOptions<LimitsOptions> limits,
    TimeProvider time,
    ILogger<EdgeResync> logger) : BackgroundService, IClusterConnectionStatusObserver
{
    /// <summary>Connections lost within this time of each other start one pass.</summary>
    internal static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(250);

    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly object _gate = new();
    private CancellationTokenSource? _pass;
    private int _told;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways < previousNumberOfGateways)
        {
            Request();
        }
    }

    public void NotifyClusterConnectionLost()
    {
        // The gateway count change that comes with it requests the pass.
    }

    /// <summary>Schedules a pass; a pass in progress starts over (with every session and channel).</summary>
    public void Request()
    {
        _requests.Writer.TryWrite(true);
        lock (_gate)
        {
            _pass?.Cancel();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var _ in _requests.Reader.ReadAllAsync(stoppingToken))
        {
            while (true)
            {
                var pass = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                lock (_gate)
                {
                    _pass = pass;
                }

                try
                {
                    await Task.Delay(Debounce, time, pass.Token);
                    await RunAsync(pass.Token);
                    break;
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // Another connection was lost meanwhile: start over.
                    _requests.Reader.TryRead(out bool _);
                }
                finally
                {
                    lock (_gate)
                    {
                        _pass = null;
                        pass.Dispose();
                    }
                }
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!edge.HasReference)
        {
            return; // not registered yet: every session attaches after this anyway
        }

        var settings = options.Value;
        var started = time.GetTimestamp();
        var subscribed = channels.Subscribed();
        var sessions = registry.All().Where(s => !s.IsClosing).Select(s => s.Streams).ToArray();
        Log.Started(logger, sessions.Length, subscribed.Length);
        Volatile.Write(ref _told, 0);
        var targets = new List<Target>(subscribed.Length + sessions.Length);
        targets.AddRange(subscribed.Select(c => new Target(null, c)));
        targets.AddRange(sessions.Select(s => new Target(s, null)));

        var pacer = new PacedRetry(settings.CallsPerSecond, settings.MaxRetryDelay, time);
        var failed = await pacer.RunAsync(targets, t => ResyncAsync(t, settings.CallTimeout), settings.RetryFor, cancellationToken);
        foreach (var target in failed)
        {
            // Still unreachable after RetryFor: better a reconnect (which fails fast with 1013 while the cluster is
            // away) than a session that silently receives nothing.
            foreach (var session in target.Session is { } s ? [s] : channels.Get(target.Channel!))
            {
                session.Reconnect(ReconnectMs());
            }
        }

        var elapsed = time.GetElapsedTime(started);
        if (failed.Count > 0)
        {
            Log.GaveUp(logger, failed.Count, settings.RetryFor);
        }

        Log.Finished(logger, sessions.Length, subscribed.Length, elapsed.TotalMilliseconds, Volatile.Read(ref _told), failed.Count);
    }

    private Task<bool> ResyncAsync(Target target, TimeSpan timeout) =>
        target.Session is { } session ? ResyncSessionAsync(session, timeout) : ResyncChannelAsync(target.Channel!, timeout);

    private async Task<bool> ResyncChannelAsync(string channel, TimeSpan timeout)
    {
        switch (await channels.ResyncAsync(channel, timeout, ReconnectMs))
        {
            case null:
                return false;
            case true:
                Log.ChannelLost(logger, channel);
                Interlocked.Increment(ref _told);
                return true;
            default:
                return true;
        }
    }

    private async Task<bool> ResyncSessionAsync(SessionStreams session, TimeSpan timeout)
    {
        if (session.IsClosing)
        {
            return true;
        }

        if (!session.TryGetMailboxLast(out var last))
        {
            return false; // its own attach is still under way: look again at the next retry
        }

        var grain = grains.Client(session.ClientId);
        try
        {
            var result = await calls.OnceAsync(grain.AttachAsync(edge.EdgeId, edge.Reference, session.SessionId, last, limits.Value.MaxSessionsPerClient), timeout);
            if (!session.ResyncMailbox(result, ReconnectMs()))
            {
                Log.MailboxLost(logger, session.ClientId, last, result.Seq);
                Interlocked.Increment(ref _told);
            }
            else if (session.IsClosing)
            {
                // The session ended while we re-attached it: its own detach may have gone first.
                await calls.OnceAsync(grain.DetachAsync(edge.EdgeId, session.SessionId), timeout);
            }

            return true;
        }
        catch (Exception ex)
        {
            // Not our cancellation (the call has no token): a timeout or a rejected call, retried.
            Log.SessionFailed(logger, ex, session.ClientId);
            return false;
        }
    }

    private int ReconnectMs() => Random.Shared.Next(0, (int)drain.Value.MaxReconnectDelay.TotalMilliseconds + 1);

    /// <summary>One call of a pass: a session's mailbox or a channel.</summary>
    private readonly record struct Target(SessionStreams? Session, string? Channel);

    private static partial class Log
    {
        [LoggerMessage(700, LogLevel.Information, "A silo connection was lost: re-attaching {Sessions} session(s) and {Channels} channel(s)", EventName = "ResyncStarted")]
        public static partial void Started(ILogger logger, int sessions, int channels);

        [LoggerMessage(701, LogLevel.Information, "Re-attached {Sessions} session(s) and {Channels} channel(s) in {ElapsedMs:F0} ms; {Told} told to reconnect (state lost), {GaveUp} unreachable", EventName = "ResyncFinished")]
        public static partial void Finished(ILogger logger, int sessions, int channels, double elapsedMs, int told, int gaveUp);

        [LoggerMessage(702, LogLevel.Warning, "{Count} session(s) or channel(s) still unreachable after {RetryFor}; telling them to reconnect", EventName = "ResyncGaveUp")]
        public static partial void GaveUp(ILogger logger, int count, TimeSpan retryFor);

        [LoggerMessage(703, LogLevel.Information, "Client {ClientId}'s mailbox lost its state (at seq {Seq}, the session had {Last}); telling the session to reconnect", EventName = "ResyncMailboxLost")]
        public static partial void MailboxLost(ILogger logger, string clientId, long last, long seq);

        [LoggerMessage(704, LogLevel.Information, "Channel {Channel} lost history this edge saw; telling its subscribers to reconnect", EventName = "ResyncChannelLost")]
        public static partial void ChannelLost(ILogger logger, string channel);

        [LoggerMessage(705, LogLevel.Debug, "Re-attaching client {ClientId} failed; retrying", EventName = "ResyncSessionFailed")]
        public static partial void SessionFailed(ILogger logger, Exception exception, string clientId);
    }
}
