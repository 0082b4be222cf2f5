namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>A session whose token can expire.</summary>
internal interface IExpiringSession
{
    /// <summary>Closes the session with <c>bye token_expired</c> if its token's expiry plus the clock skew is at or before <paramref name="now"/>.</summary>
    /// <returns>True when this call started the close.</returns>
    bool ExpireIfDue(DateTimeOffset now);
}

/// <summary>
/// One timer per edge that closes sessions whose token expired without a refresh, instead of a timer per session:
/// a per-session timer cost every idle connection a timer object in the runtime's timer queue (memory per connection,
/// see docs/benchmarks.md). A session is closed no earlier than its token's <c>exp</c> plus the clock skew (when a new connection
/// with that token would be refused too) and at most one <see cref="Interval"/> later.
/// </summary>
internal sealed partial class TokenExpirySweep(Func<IEnumerable<IExpiringSession>> sessions, TimeProvider time, ILogger<TokenExpirySweep> logger)
    : IHostedService, IDisposable
{
    private ITimer? _timer;

    /// <summary>How often sessions are checked: the most a close can lag the expiry (plus clock skew).</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(1);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = time.CreateTimer(static s => ((TokenExpirySweep)s!).Sweep(), this, Interval, Interval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    /// <summary>Checks every session once. Public for tests; the timer calls it every <see cref="Interval"/>.</summary>
    /// <returns>How many sessions this sweep closed.</returns>
    public int Sweep()
    {
        var now = time.GetUtcNow();
        var closed = 0;
        try
        {
            foreach (var session in sessions())
            {
                if (session.ExpireIfDue(now))
                {
                    closed++;
                }
            }
        }
        catch (Exception ex)
        {
            // A timer callback must not throw; the next sweep tries again.
            Log.SweepFailed(logger, ex);
        }

        return closed;
    }

    private static partial class Log
    {
        [LoggerMessage(220, LogLevel.Warning, "Token expiry sweep failed; retrying at the next interval", EventName = "TokenExpirySweepFailed")]
        public static partial void SweepFailed(ILogger logger, Exception exception);
    }
}
