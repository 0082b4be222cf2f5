using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.Configuration;

/// <summary>
/// How an edge re-attaches its sessions and channel subscriptions after it lost a silo connection (a silo crashed:
/// the grains it held come back elsewhere without their sessions and edges). Section <c>Gateway:Resync</c>.
/// </summary>
internal sealed class ResyncOptions
{
    public const string SectionName = "Gateway:Resync";

    /// <summary>Default for <see cref="CallsPerSecond"/>: 2,000 (a full edge of 50,000 sessions in 25 s).</summary>
    public const int DefaultCallsPerSecond = 2_000;

    /// <summary>
    /// Default for <see cref="RetryFor"/>: 60 seconds, three times Orleans' slowest death declaration (20 s): the dead
    /// silo's grains answer only once the cluster declared it dead.
    /// </summary>
    public static readonly TimeSpan DefaultRetryFor = TimeSpan.FromSeconds(60);

    /// <summary>Default for <see cref="MaxRetryDelay"/>: 2 seconds.</summary>
    public static readonly TimeSpan DefaultMaxRetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>Default for <see cref="CallTimeout"/>: 5 seconds, the edge's call timeout.</summary>
    public static readonly TimeSpan DefaultCallTimeout = EdgeOptions.DefaultCallTimeout;

    /// <summary>Grain calls per second of a resync pass, so a full edge does not stampede the silos.</summary>
    public int CallsPerSecond { get; set; } = DefaultCallsPerSecond;

    /// <summary>
    /// How long calls that failed are retried (doubling delays up to <see cref="MaxRetryDelay"/>); sessions and channels
    /// still failing then are told <c>bye draining</c> so their clients reconnect instead of waiting in silence.
    /// </summary>
    public TimeSpan RetryFor { get; set; } = DefaultRetryFor;

    /// <summary>Longest pause between two retries of the calls that failed.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = DefaultMaxRetryDelay;

    /// <summary>
    /// A call that has not answered by then counts as failed (and is retried). At most <see cref="EdgeOptions.CallTimeout"/>
    /// in effect: that is the edge's Orleans response timeout.
    /// </summary>
    public TimeSpan CallTimeout { get; set; } = DefaultCallTimeout;

    public override string ToString() => $"CallsPerSecond={CallsPerSecond} RetryFor={RetryFor} MaxRetryDelay={MaxRetryDelay} CallTimeout={CallTimeout}";
}

internal sealed class ResyncOptionsValidator : IValidateOptions<ResyncOptions>
{
    public ValidateOptionsResult Validate(string? name, ResyncOptions options)
    {
        var failures = new List<string>();
        Check(options.CallsPerSecond is >= 1 and <= 1_000_000, $"CallsPerSecond must be between 1 and 1,000,000 (was {options.CallsPerSecond})");
        Check(options.RetryFor > TimeSpan.Zero, $"RetryFor must be positive (was {options.RetryFor})");
        Check(options.MaxRetryDelay > TimeSpan.Zero && options.MaxRetryDelay <= options.RetryFor,
            $"MaxRetryDelay must be positive and at most RetryFor (was {options.MaxRetryDelay})");
        Check(options.CallTimeout > TimeSpan.Zero, $"CallTimeout must be positive (was {options.CallTimeout})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(bool ok, string message)
        {
            if (!ok)
            {
                failures.Add($"{ResyncOptions.SectionName}: {message}.");
            }
        }
    }
}
