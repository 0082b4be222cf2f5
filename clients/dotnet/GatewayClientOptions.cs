namespace OrleansGateway.Client;

/// <summary>How a <see cref="GatewayClient"/> connects and behaves.</summary>
public sealed class GatewayClientOptions
{
    /// <summary>Edge URLs (<c>wss://host/ws</c>); on a failed or lost connection the client moves to the next one.</summary>
    public IReadOnlyList<Uri> Urls { get; set; } = [];

    /// <summary>Called on every (re)connect and before the token expires; returns a JWT.</summary>
    public required Func<CancellationToken, ValueTask<string>> GetTokenAsync { get; set; }

    /// <summary>
    /// How long a request waits for its <c>ok</c>/<c>err</c>, queueing included; for <c>SendAsync</c>/<c>PublishAsync</c>/
    /// <c>UpAsync</c> the default deadline (per call: <see cref="RequestOptions.Deadline"/>) within which they are sent
    /// again with their key after a lost connection or <c>err unavailable</c>. Default 10 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests queued while reconnecting; beyond, <see cref="GatewayException.Code"/> is <c>queue_full</c>. Default 256.</summary>
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>First reconnect delay (exponential backoff with full jitter). Default 200 ms.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Largest reconnect delay. Default 10 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A <c>ping</c> is sent after this long without any frame from the server. Default 15 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>No frame this long after a <c>ping</c>: the connection is dead, reconnect. Default 10 s.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The token is refreshed in-band (<c>auth</c>) this long before it expires. Default 30 s.</summary>
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Direct messages buffered for <see cref="GatewayClient.Messages"/>. Default 10,000.</summary>
    public int MessageBufferCapacity { get; set; } = 10_000;

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The backoff's jitter source, uniform in [0, 1); tests pin it.</summary>
    internal Func<double> Jitter { get; set; } = Random.Shared.NextDouble;

    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Called on every state change from the first <c>Connecting</c> on, before <c>ConnectAsync</c> returns (the
    /// <c>StateChanged</c> event can only be subscribed to afterwards). On the client's connection loop: keep it short.
    /// </summary>
    public Action<ConnectionState>? OnStateChanged { get; set; }
}

/// <summary>Connection state, for UI.</summary>
public enum ConnectionState
{
    Connecting,
    Connected,
    Reconnecting,
    Disconnected,
}

/// <summary>A direct message (<c>msg</c>).</summary>
public sealed record DirectMessage(long Seq, string From, System.Text.Json.JsonElement Data);

/// <summary>A channel publication (<c>pub</c>).</summary>
public sealed record Publication(string Channel, long Offset, string From, System.Text.Json.JsonElement Data);

/// <summary>
/// Messages were lost to retention while disconnected (<c>recovered:false</c>): the app must resync from its backend.
/// <see cref="Channel"/> is null for the direct-message mailbox.
/// </summary>
public sealed record RecoveryLost(string? Channel);

/// <summary>
/// A request failed: <see cref="Code"/> is the server's <c>err</c> code (<c>bad_request</c>, <c>forbidden</c>, …) or a
/// client one: <c>timeout</c> (not answered, or for send/publish/up not taken, within the deadline), <c>queue_full</c>,
/// <c>connection_lost</c> (only subscribe/unsubscribe/auth: send/publish/up are sent again with their key instead), <c>closed</c>.
/// </summary>
public sealed class GatewayException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
