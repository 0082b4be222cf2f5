using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.Configuration;

/// <summary>How an edge drains on SIGTERM or an admin request. Section <c>Gateway:Drain</c>.</summary>
internal sealed class DrainOptions
{
    public const string SectionName = "Gateway:Drain";

    /// <summary>Default for <see cref="BatchSize"/>: 500 sessions.</summary>
    public const int DefaultBatchSize = 500;

    /// <summary>Default for <see cref="BatchInterval"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultBatchInterval = TimeSpan.FromSeconds(1);

    /// <summary>Default for <see cref="Deadline"/>: 60 seconds.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(60);

    /// <summary>Default for <see cref="MaxReconnectDelay"/>: 3 seconds.</summary>
    public static readonly TimeSpan DefaultMaxReconnectDelay = TimeSpan.FromSeconds(3);

    /// <summary>Sessions told <c>bye draining</c> per batch.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>Pause between batches, so the other edges are not hit by a thundering herd.</summary>
    public TimeSpan BatchInterval { get; set; } = DefaultBatchInterval;

    /// <summary>The whole drain ends by then: remaining sessions are closed at once. Keep below terminationGracePeriodSeconds.</summary>
    public TimeSpan Deadline { get; set; } = DefaultDeadline;

    /// <summary><c>reconnect_ms</c> is uniform in [0, this]: clients of one batch spread their reconnects.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = DefaultMaxReconnectDelay;

    /// <summary>Bearer token for <c>POST /admin/drain</c>; the endpoint does not exist when unset. Never logged.</summary>
    public string? AdminToken { get; set; }

    public override string ToString() => $"BatchSize={BatchSize} BatchInterval={BatchInterval} Deadline={Deadline} AdminToken={(AdminToken is null ? "(none)" : "*****")}";
}

internal sealed class DrainOptionsValidator : IValidateOptions<DrainOptions>
{
    public ValidateOptionsResult Validate(string? name, DrainOptions options)
    {
        var failures = new List<string>();
        if (options.BatchSize < 1)
        {
            failures.Add($"{DrainOptions.SectionName}:BatchSize must be positive.");
        }

        if (options.BatchInterval < TimeSpan.Zero || options.Deadline <= TimeSpan.Zero || options.MaxReconnectDelay < TimeSpan.Zero)
        {
            failures.Add($"{DrainOptions.SectionName}: BatchInterval and MaxReconnectDelay must not be negative, Deadline must be positive.");
        }

        if (options.AdminToken is { Length: < 16 })
        {
            failures.Add($"{DrainOptions.SectionName}:AdminToken must be at least 16 characters.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
