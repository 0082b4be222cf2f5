using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.Configuration;

/// <summary>Abuse limits of one edge. Section <c>Gateway:Limits</c>. Every limit is per edge process.</summary>
internal sealed class LimitsOptions
{
    public const string SectionName = "Gateway:Limits";

    /// <summary>Sustained client frames per second per connection (token bucket). Default 200.</summary>
    public double FramesPerSecond { get; set; } = 200;

    /// <summary>Frames a connection may send in a burst above the sustained rate. Default 400.</summary>
    public double FrameBurst { get; set; } = 400;

    /// <summary>Sustained client bytes per second per connection. Default 1 MiB.</summary>
    public double BytesPerSecond { get; set; } = 1024 * 1024;

    /// <summary>Bytes a connection may send in a burst. Default 4 MiB.</summary>
    public double ByteBurst { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Sustained frames per second of one client id on this edge, across its sessions and its reconnects (a client
    /// that is closed for flooding does not get a fresh burst by reconnecting). Default 400.
    /// </summary>
    public double ClientFramesPerSecond { get; set; } = 400;

    /// <summary>Burst of <see cref="ClientFramesPerSecond"/>. Default 800.</summary>
    public double ClientFrameBurst { get; set; } = 800;

    /// <summary>Sustained bytes per second of one client id on this edge, across its sessions. Default 2 MiB.</summary>
    public double ClientBytesPerSecond { get; set; } = 2 * 1024 * 1024;

    /// <summary>Burst of <see cref="ClientBytesPerSecond"/>. Default 8 MiB.</summary>
    public double ClientByteBurst { get; set; } = 8 * 1024 * 1024;

    /// <summary>Frames answered <c>err rate_limited</c> in a row before the session is closed with <c>bye policy</c> (1008). Default 100.</summary>
    public int RateLimitedBeforeClose { get; set; } = 100;

    /// <summary>
    /// After a client is closed with <c>bye policy</c> for flooding, how long its new connections on this edge are
    /// refused (503 + Retry-After) before the upgrade. Default 10 s; zero disables it.
    /// </summary>
    public TimeSpan PolicyCoolDown { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Channels one session may subscribe to. Default 100.</summary>
    public int MaxSubscriptionsPerSession { get; set; } = 100;

    /// <summary>
    /// Sessions of one client id across the cluster. Checked on this edge before the upgrade (503) and by the
    /// client's grain across all edges at attach (the new session is closed with 1013). Default 16.
    /// </summary>
    public int MaxSessionsPerClient { get; set; } = 16;

    /// <summary>Connections from one source IP on this edge; more are refused with 503. Default 5,000 (NATs and proxies share addresses).</summary>
    public int MaxConnectionsPerIp { get; set; } = 5_000;

    /// <summary>WebSocket handshakes this edge starts per second (token bucket, burst = 2×); beyond, 503. Default 2,000.</summary>
    public double HandshakesPerSecond { get; set; } = 2_000;
}

internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions o)
    {
        var failures = new List<string>();
        if (o.FramesPerSecond <= 0 || o.FrameBurst < 1 || o.BytesPerSecond <= 0 || o.ByteBurst < 1024 || o.HandshakesPerSecond <= 0
            || o.ClientFramesPerSecond <= 0 || o.ClientFrameBurst < 1 || o.ClientBytesPerSecond <= 0 || o.ClientByteBurst < 1024)
        {
            failures.Add($"{LimitsOptions.SectionName}: rates must be positive, frame bursts ≥ 1 and byte bursts ≥ 1024.");
        }

        if (o.PolicyCoolDown < TimeSpan.Zero)
        {
            failures.Add($"{LimitsOptions.SectionName}:PolicyCoolDown must not be negative.");
        }

        if (o.RateLimitedBeforeClose < 1 || o.MaxSubscriptionsPerSession < 1 || o.MaxSessionsPerClient < 1 || o.MaxConnectionsPerIp < 1)
        {
            failures.Add($"{LimitsOptions.SectionName}: counts must be at least 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
