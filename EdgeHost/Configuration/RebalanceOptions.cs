using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.Configuration;

/// <summary>
/// How an edge that holds clearly more than its share of the cluster's connections sheds the excess. Section
/// <c>Gateway:Rebalance</c>. Off by default: shedding closes working connections, so an operator turns it on knowingly
/// (on every edge: an edge with it off neither reports nor sheds, and the others do not count it).
/// </summary>
internal sealed class RebalanceOptions
{
    public const string SectionName = "Gateway:Rebalance";

    /// <summary>Default for <see cref="Interval"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    /// <summary>Default for <see cref="Tolerance"/>: 0.2 (shed only above 120 % of the mean).</summary>
    public const double DefaultTolerance = 0.2;

    /// <summary>Default for <see cref="MinConnections"/>: 100.</summary>
    public const int DefaultMinConnections = 100;

    /// <summary>
    /// Default for <see cref="BatchSize"/>: 1,000 (one batch per two intervals: 100 sessions a second at the default
    /// interval, a fifth of a drain's default pace).
    /// </summary>
    public const int DefaultBatchSize = 1_000;

    /// <summary>Default for <see cref="MaxReconnectDelay"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultMaxReconnectDelay = TimeSpan.FromSeconds(5);

    /// <summary>Off by default (see the class remarks).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// How often the edge reports its count and decides. After a round that shed, the next one only reports (the moved
    /// clients must show in the others' counts first), so at most <see cref="BatchSize"/> sessions are told per two
    /// intervals. A report counts for three intervals.
    /// </summary>
    public TimeSpan Interval { get; set; } = DefaultInterval;

    /// <summary>The edge sheds only while it holds more than the mean × (1 + this): small imbalances are left alone.</summary>
    public double Tolerance { get; set; } = DefaultTolerance;

    /// <summary>The floor: an edge never sheds below this many connections, nor below the mean.</summary>
    public int MinConnections { get; set; } = DefaultMinConnections;

    /// <summary>Sessions told <c>bye draining</c> per round, at most (a round that sheds is followed by one that only reports).</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary><c>reconnect_ms</c> is uniform in [0, this]: the clients of one batch spread their reconnects.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = DefaultMaxReconnectDelay;

    /// <summary>How long an edge's report counts in the cluster's view.</summary>
    public TimeSpan ReportTtl => Interval * 3;

    public override string ToString() =>
        $"Enabled={Enabled} Interval={Interval} Tolerance={Tolerance} MinConnections={MinConnections} BatchSize={BatchSize} MaxReconnectDelay={MaxReconnectDelay}";
}

internal sealed class RebalanceOptionsValidator : IValidateOptions<RebalanceOptions>
{
    public ValidateOptionsResult Validate(string? name, RebalanceOptions options)
    {
        var failures = new List<string>();
        Check(options.Interval >= TimeSpan.FromMilliseconds(100) && options.Interval <= TimeSpan.FromMinutes(10),
            $"Interval must be between 100 ms and 10 minutes (was {options.Interval})");
        // Below 5 % every rounding of the mean would make edges trade sessions back and forth.
        Check(options.Tolerance is >= 0.05 and <= 10, $"Tolerance must be between 0.05 and 10 (was {options.Tolerance})");
        Check(options.MinConnections >= 0, $"MinConnections must not be negative (was {options.MinConnections})");
        Check(options.BatchSize >= 1, $"BatchSize must be positive (was {options.BatchSize})");
        // A shed client must be able to reconnect before the next round looks at the counts again.
        Check(options.MaxReconnectDelay >= TimeSpan.Zero && options.MaxReconnectDelay <= options.Interval,
            $"MaxReconnectDelay must be between 0 and Interval (was {options.MaxReconnectDelay})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(bool ok, string message)
        {
            if (!ok)
            {
                failures.Add($"{RebalanceOptions.SectionName}: {message}.");
            }
        }
    }
}
