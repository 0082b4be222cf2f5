using Microsoft.Extensions.Options;

namespace OrleansGateway.Grains.Members;

/// <summary>Channel presence on silos (section <c>Gateway:Presence</c>; edges read their report interval from the same section).</summary>
public sealed class PresenceOptions
{
    public const string SectionName = "Gateway:Presence";

    /// <summary>Default for <see cref="LeaveDebounce"/>: 5 seconds (above the drain's default 3 s reconnect spread).</summary>
    public static readonly TimeSpan DefaultLeaveDebounce = TimeSpan.FromSeconds(5);

    /// <summary>Default for <see cref="CheckInterval"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Default for <see cref="MaxPageSize"/>: 1,000 members.</summary>
    public const int DefaultMaxPageSize = 1_000;

    /// <summary>
    /// How long a client whose last session left stays a member before its <c>leave</c> is sent: a client moved by
    /// an edge drain rejoins through another edge within it, and others see no leave and no join.
    /// </summary>
    public TimeSpan LeaveDebounce { get; set; } = DefaultLeaveDebounce;

    /// <summary>
    /// While a channel has members, how often its grain sends due leaves and drops the members of edges whose lease
    /// lapsed (a SIGKILLed edge's members leave within the lease TTL plus this).
    /// </summary>
    public TimeSpan CheckInterval { get; set; } = DefaultCheckInterval;

    /// <summary>Most members in one page of a member list.</summary>
    public int MaxPageSize { get; set; } = DefaultMaxPageSize;
}

internal sealed class PresenceOptionsValidator : IValidateOptions<PresenceOptions>
{
    public ValidateOptionsResult Validate(string? name, PresenceOptions options)
    {
        var failures = new List<string>();
        if (options.LeaveDebounce < TimeSpan.Zero)
        {
            failures.Add($"{PresenceOptions.SectionName}:LeaveDebounce must not be negative (was {options.LeaveDebounce}).");
        }

        if (options.CheckInterval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"{PresenceOptions.SectionName}:CheckInterval must be at least 100 ms (was {options.CheckInterval}).");
        }

        if (options.MaxPageSize is < 1 or > 10_000)
        {
            failures.Add($"{PresenceOptions.SectionName}:MaxPageSize must be between 1 and 10,000 (was {options.MaxPageSize}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
