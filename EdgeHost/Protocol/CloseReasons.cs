using System.Net.WebSockets;

namespace OrleansGateway.EdgeHost.Protocol;

/// <summary>
/// The one catalogue of how a session ends (docs/protocol.md): the <c>bye</c> code sent first (if any), the WebSocket
/// close status, and whether the client should reconnect.
/// </summary>
internal sealed record CloseReason(string? ByeCode, WebSocketCloseStatus Status, string Description, bool Reconnect)
{
    /// <summary>The client closed, or the server ends the session without blame.</summary>
    public static readonly CloseReason Normal = new(null, WebSocketCloseStatus.NormalClosure, "normal", false);

    /// <summary>A frame exceeded the configured size limit.</summary>
    public static readonly CloseReason FrameTooLarge = new(null, WebSocketCloseStatus.MessageTooBig, "frame too large", true);

    /// <summary>The edge is draining (deploy, scale-in): reconnect to any edge with <c>last_seq</c>.</summary>
    public static readonly CloseReason Draining = new(ByeCodes.Draining, (WebSocketCloseStatus)1012, "service restart", true);

    /// <summary>The client's bounded outbox overflowed: it reads slower than its messages arrive.</summary>
    public static readonly CloseReason SlowConsumer = new(ByeCodes.SlowConsumer, (WebSocketCloseStatus)1013, "slow consumer", true);

    /// <summary>The token expired without an in-band refresh.</summary>
    public static readonly CloseReason TokenExpired = new(ByeCodes.TokenExpired, WebSocketCloseStatus.PolicyViolation, "token expired", true);

    /// <summary>A backend disconnected the client, or it broke policy.</summary>
    public static readonly CloseReason Policy = new(ByeCodes.Policy, WebSocketCloseStatus.PolicyViolation, "policy", false);

    /// <summary>Another session replaced this one.</summary>
    public static readonly CloseReason Replaced = new(ByeCodes.Replaced, WebSocketCloseStatus.PolicyViolation, "replaced", false);

    /// <summary>The cluster could not take the session now (overload, cluster unreachable).</summary>
    public static readonly CloseReason TryAgainLater = new(null, (WebSocketCloseStatus)1013, "try again later", true);

    /// <summary>The client already has its maximum number of sessions across the cluster.</summary>
    public static readonly CloseReason TooManySessions = new(null, (WebSocketCloseStatus)1013, "too many sessions of this client", true);

    /// <summary>The <c>reason</c> of the <c>disconnected</c> lifecycle event (docs/events.md): the <c>bye</c> code, else a snake_case name.</summary>
    public string EventReason => ByeCode ?? Description switch
    {
        "normal" => "normal",
        "frame too large" => "frame_too_large",
        "try again later" => "try_again_later",
        "too many sessions of this client" => "too_many_sessions",
        _ => Description.Replace(' ', '_'),
    };

    /// <summary>Maps a <c>bye</c> code asked for by a backend to its close reason.</summary>
    public static CloseReason FromByeCode(string code) => code switch
    {
        ByeCodes.Draining => Draining,
        ByeCodes.TokenExpired => TokenExpired,
        ByeCodes.Replaced => Replaced,
        ByeCodes.SlowConsumer => SlowConsumer,
        _ => Policy,
    };
}

/// <summary><c>bye</c> codes (docs/protocol.md).</summary>
internal static class ByeCodes
{
    public const string Draining = "draining";
    public const string TokenExpired = "token_expired";
    public const string Replaced = "replaced";
    public const string Policy = "policy";
    public const string SlowConsumer = "slow_consumer";
}

/// <summary><c>err</c> codes (docs/protocol.md).</summary>
internal static class ErrorCodes
{
    public const string BadRequest = "bad_request";
    public const string Forbidden = "forbidden";
    public const string RateLimited = "rate_limited";
    public const string Unavailable = "unavailable";
}
