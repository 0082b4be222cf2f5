using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.Configuration;

/// <summary>
/// How an edge reports its channel members to channel grains. Section <c>Gateway:Presence</c> (silos read the leave
/// debounce and page size from the same section).
/// </summary>
internal sealed class PresenceReportOptions
{
    public const string SectionName = "Gateway:Presence";

    /// <summary>Default for <see cref="ReportInterval"/>: 200 ms.</summary>
    public static readonly TimeSpan DefaultReportInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How often the edge sends each channel's member changes to its grain, one call per changed channel: a join or
    /// leave reaches others at most this much later, and a session that leaves and comes back on this edge within it
    /// is never reported at all.
    /// </summary>
    public TimeSpan ReportInterval { get; set; } = DefaultReportInterval;
}

internal sealed class PresenceReportOptionsValidator : IValidateOptions<PresenceReportOptions>
{
    public ValidateOptionsResult Validate(string? name, PresenceReportOptions options) =>
        options.ReportInterval < TimeSpan.FromMilliseconds(10) || options.ReportInterval > TimeSpan.FromSeconds(10)
            ? ValidateOptionsResult.Fail($"{PresenceReportOptions.SectionName}:ReportInterval must be between 10 ms and 10 s (was {options.ReportInterval}).")
            : ValidateOptionsResult.Success;
}
