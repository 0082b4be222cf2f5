using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.Configuration;

/// <summary>Edge behaviour. Section <c>Gateway:Edge</c>.</summary>
internal sealed class EdgeOptions
{
    public const string SectionName = "Gateway:Edge";

    /// <summary>Default for <see cref="MaxFrameBytes"/>: 64 KiB.</summary>
    public const int DefaultMaxFrameBytes = 64 * 1024;

    /// <summary>Default for <see cref="MaxConnections"/>: 50,000 per edge.</summary>
    public const int DefaultMaxConnections = 50_000;

    /// <summary>Default for <see cref="OutboxCapacity"/>: 1,000 frames (one full retention window).</summary>
    public const int DefaultOutboxCapacity = 1_000;

    /// <summary>Default for <see cref="HeartbeatSeconds"/>: 25.</summary>
    public const int DefaultHeartbeatSeconds = 25;

    /// <summary>Default for <see cref="RetryAfterSeconds"/>: 5.</summary>
    public const int DefaultRetryAfterSeconds = 5;

    /// <summary>Largest client frame accepted; larger closes the session with 1009.</summary>
    public int MaxFrameBytes { get; set; } = DefaultMaxFrameBytes;

    /// <summary>Sessions this edge holds at most; beyond, upgrades get 503 + Retry-After.</summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>Frames queued per session before it is closed as a slow consumer.</summary>
    public int OutboxCapacity { get; set; } = DefaultOutboxCapacity;

    /// <summary>WebSocket ping interval, seconds, announced as <c>hb</c> in <c>welcome</c>; a peer that does not answer within as long is closed.</summary>
    public int HeartbeatSeconds { get; set; } = DefaultHeartbeatSeconds;

    /// <summary><c>Retry-After</c> value on 503.</summary>
    public int RetryAfterSeconds { get; set; } = DefaultRetryAfterSeconds;

    /// <summary>Browser origins allowed to connect; empty = any (set it in production: cross-site WebSocket hijacking).</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>How long a closing session may take to flush its <c>bye</c> and close handshake before it is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Default for <see cref="CallTimeout"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the edge waits for a grain to answer: the edge's Orleans response timeout (30 s by default), so a
    /// <c>send</c>/<c>pub</c> not answered by then gets <c>err unavailable</c>; calls it may repeat (attach, fetching a
    /// delivery gap, detach) are asked again, twice at most. The Orleans client never fails a call in flight through a
    /// gateway silo that stops, it only times it out, and a session's frames would wait behind it all that time.
    /// </summary>
    public TimeSpan CallTimeout { get; set; } = DefaultCallTimeout;

    /// <summary>
    /// Upgrade <c>GET /ws</c> at Kestrel's connection level (true, the default) rather than through ASP.NET Core's HTTP
    /// pipeline: the same checks and answers, but an idle socket no longer keeps Kestrel's HTTP/1.1 request state
    /// alive (docs/benchmarks.md, idle memory). False is the previous path, kept to compare and as a fallback.
    /// </summary>
    public bool ConnectionLevelUpgrade { get; set; } = true;

    /// <summary>
    /// Send each <c>send</c> to its grain one-way and take its answer from the silo's push to this edge (true, the
    /// default) rather than from a response per call: one Orleans message fewer per send (docs/benchmarks.md). Needs
    /// silos of this release or later, which serve both: when upgrading from an earlier one, roll the silos first, or
    /// set this false on the edges until every silo runs this release (docs/operations.md, "Wire compatibility").
    /// </summary>
    public bool SendAcksInPush { get; set; } = true;

    /// <summary>
    /// Gather the <c>send</c>s this edge makes in the same instant into one call to a silo (true, the default) rather
    /// than one Orleans message per send (docs/benchmarks.md, "Batched sends"). Applies with <see cref="SendAcksInPush"/>
    /// on, and to sends made without a trace being recorded (a traced send goes alone, under its frame's span). Needs
    /// silos of this release or later (<c>ISendIngress</c>): when upgrading from an earlier one, roll the silos first, or
    /// set this false on the edges until every silo runs this release (docs/operations.md, "Wire compatibility").
    /// </summary>
    public bool BatchSends { get; set; } = true;
}

internal sealed class EdgeOptionsValidator : IValidateOptions<EdgeOptions>
{
    public ValidateOptionsResult Validate(string? name, EdgeOptions options)
    {
        var failures = new List<string>();
        Check(options.MaxFrameBytes is >= 1024 and <= 16 * 1024 * 1024, "MaxFrameBytes must be between 1 KiB and 16 MiB");
        Check(options.MaxConnections > 0, "MaxConnections must be positive");
        Check(options.OutboxCapacity is >= 8 and <= 1_000_000, "OutboxCapacity must be between 8 and 1,000,000");
        Check(options.HeartbeatSeconds is >= 1 and <= 3600, "HeartbeatSeconds must be between 1 and 3600");
        Check(options.RetryAfterSeconds is >= 1 and <= 3600, "RetryAfterSeconds must be between 1 and 3600");
        Check(options.CloseTimeout > TimeSpan.Zero, "CloseTimeout must be positive");
        Check(options.CallTimeout > TimeSpan.Zero && options.CallTimeout <= TimeSpan.FromMinutes(1), "CallTimeout must be positive and at most 1 minute");
        foreach (var origin in options.AllowedOrigins)
        {
            Check(Uri.TryCreate(origin, UriKind.Absolute, out _), $"AllowedOrigins entry '{origin}' is not an absolute origin");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(bool ok, string message)
        {
            if (!ok)
            {
                failures.Add($"{EdgeOptions.SectionName}: {message}.");
            }
        }
    }
}
