using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Configuration;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// The edge's one rule for how long a grain call may take and whether it is asked again. Three kinds of call:
/// <list type="bullet">
/// <item><b>Repeatable</b> (<see cref="RepeatableAsync{T, TArg}"/>): attach, detach, read-since. Changes nothing the
/// second time, so it is asked again when it has not answered within <see cref="Timeout"/> or was rejected by a stopping
/// silo (<see cref="OrleansException"/>); the <see cref="Attempts"/>th failure is thrown.</item>
/// <item><b>Bounded once</b> (<see cref="OnceAsync{T}(Task{T}, CancellationToken)"/>): channel (un)subscribes, resync,
/// lease. Asked once and given up after <see cref="Timeout"/> (or a caller's own bound): it runs under a channel's lock
/// or in a background loop, and a call whose gateway silo stopped mid-call is otherwise answered only after Orleans' 30 s.</item>
/// <item><b>Send and pub</b> take no timer from here: they are bounded by the client's Orleans response timeout, which
/// the edge sets to the same <see cref="EdgeOptions.CallTimeout"/> (see <c>EdgeHostingExtensions</c>). A
/// <c>WaitAsync</c> per message would cost the hottest path a timer and a task per frame.</item>
/// </list>
/// </summary>
internal sealed partial class GrainCallPolicy(TimeSpan timeout, TimeProvider time, ILogger<GrainCallPolicy> logger)
{
    /// <summary>How many times a repeatable call is asked before its failure is thrown.</summary>
    public const int Attempts = 3;

    public GrainCallPolicy(IOptions<EdgeOptions> options, TimeProvider time, ILogger<GrainCallPolicy> logger)
        : this(options.Value.CallTimeout, time, logger)
    {
    }

    /// <summary>How long one attempt may take: <see cref="EdgeOptions.CallTimeout"/>.</summary>
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>
    /// Calls <paramref name="call"/> with <paramref name="arg"/> (a static lambda and its argument: no closure per call),
    /// asking again on a timeout or an <see cref="OrleansException"/>, up to <see cref="Attempts"/> times.
    /// </summary>
    /// <param name="subject">Who the call is for (a client id or a channel), for the log.</param>
    public async Task<T> RepeatableAsync<T, TArg>(Func<TArg, Task<T>> call, TArg arg, string subject)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(arg).WaitAsync(Timeout, time);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException && attempt < Attempts)
            {
                Log.CallRetried(logger, ex, subject, attempt);
            }
        }
    }

    /// <summary>Awaits <paramref name="call"/> at most <see cref="Timeout"/>; a <see cref="TimeoutException"/> after that.</summary>
    public Task<T> OnceAsync<T>(Task<T> call, CancellationToken cancellationToken = default) =>
        call.WaitAsync(Timeout, time, cancellationToken);

    /// <inheritdoc cref="OnceAsync{T}(Task{T}, CancellationToken)"/>
    public Task OnceAsync(Task call, CancellationToken cancellationToken = default) =>
        call.WaitAsync(Timeout, time, cancellationToken);

    /// <summary>As <see cref="OnceAsync{T}(Task{T}, CancellationToken)"/>, with the caller's own bound (a resync pass, a lease TTL).</summary>
    public Task<T> OnceAsync<T>(Task<T> call, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        call.WaitAsync(timeout, time, cancellationToken);

    /// <inheritdoc cref="OnceAsync{T}(Task{T}, TimeSpan, CancellationToken)"/>
    public Task OnceAsync(Task call, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        call.WaitAsync(timeout, time, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(203, LogLevel.Information, "A grain call for {Subject} failed or did not answer in time (attempt {Attempt}); asking again", EventName = "CallRetried")]
        public static partial void CallRetried(ILogger logger, Exception exception, string subject, int attempt);
    }
}
