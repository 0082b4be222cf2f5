namespace OrleansGateway.Grains;

/// <summary>The kinds of connection lifecycle events (docs/events.md); a set of them is what <see cref="GatewayEventsOptions.Kinds"/> turns on.</summary>
[Flags]
public enum LifecycleEventKinds
{
    /// <summary>No events: the default, at no cost.</summary>
    None = 0,

    /// <summary>A session attached to its client (fresh or resumed).</summary>
    Connected = 1,

    /// <summary>A session ended (the edge detached it), or its edge died (<c>edge_lost</c>).</summary>
    Disconnected = 2,

    /// <summary>A session subscribed to a channel.</summary>
    Subscribed = 4,

    /// <summary>A session unsubscribed from a channel (an <c>unsub</c> frame; a closing session's channels are implied by <c>disconnected</c>).</summary>
    Unsubscribed = 8,

    /// <summary>Every kind.</summary>
    All = Connected | Disconnected | Subscribed | Unsubscribed,
}

/// <summary>
/// One connection lifecycle event of one client, as backends receive it: typed on the memory stream
/// (<see cref="LifecycleEvents"/>), JSON (<see cref="LifecycleEventJson"/>) on Kafka. Exactly one kind per event.
/// </summary>
/// <param name="Kind">What happened: exactly one flag of <see cref="LifecycleEventKinds"/>.</param>
/// <param name="ClientId">The client (JWT <c>sub</c>): the Kafka record key.</param>
/// <param name="EdgeId">The edge instance holding the session.</param>
/// <param name="SessionId">The edge-local session id: (edge, session) names one connection.</param>
/// <param name="AtUnixMs">When the client's grain produced the event (milliseconds since the Unix epoch).</param>
[GenerateSerializer, Immutable, Alias("ogw.LifecycleEvent")]
public sealed record LifecycleEvent(
    [property: Id(0)] LifecycleEventKinds Kind,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string EdgeId,
    [property: Id(3)] long SessionId,
    [property: Id(4)] long AtUnixMs)
{
    /// <summary><c>connected</c>: the client asked to resume (sent <c>last_seq</c>).</summary>
    [Id(5)]
    public bool Resumed { get; init; }

    /// <summary><c>connected</c>: the welcome's <c>recovered</c> (false: messages after <c>last_seq</c> fell out of retention).</summary>
    [Id(6)]
    public bool Recovered { get; init; }

    /// <summary>
    /// <c>disconnected</c>: why (<c>normal</c>, a <c>bye</c> code such as <c>draining</c>, <c>frame_too_large</c>, …,
    /// <c>edge_lost</c> when the silo dropped the session of an edge whose lease lapsed, <c>unknown</c> from an edge that
    /// did not say).
    /// </summary>
    [Id(7)]
    public string? Reason { get; init; }

    /// <summary><c>disconnected</c>: the WebSocket close status the edge sent (null for <c>edge_lost</c> and <c>unknown</c>).</summary>
    [Id(8)]
    public int? Code { get; init; }

    /// <summary><c>subscribed</c>, <c>unsubscribed</c>: the channel.</summary>
    [Id(9)]
    public string? Channel { get; init; }
}

/// <summary>Where lifecycle events go when Kafka is not configured: the Orleans memory stream backends subscribe to.</summary>
public static class LifecycleEvents
{
    /// <summary>Stream provider name: the same as the upstream's (<see cref="UpstreamStreams.ProviderName"/>).</summary>
    public const string ProviderName = UpstreamStreams.ProviderName;

    /// <summary>
    /// The memory stream's key within the namespace (<see cref="GatewayEventsOptions.Topic"/>): one stream carries every
    /// client's events, because an Orleans subscriber cannot subscribe to a namespace, only to a stream. Each client's events
    /// still arrive in order (its grain publishes them one after the other, and one stream is delivered in order).
    /// </summary>
    public const string StreamKey = "all";

    /// <summary>The wire name of one kind (<c>connected</c>, …), as in the JSON field <c>t</c>.</summary>
    public static string Name(LifecycleEventKinds kind) => kind switch
    {
        LifecycleEventKinds.Connected => "connected",
        LifecycleEventKinds.Disconnected => "disconnected",
        LifecycleEventKinds.Subscribed => "subscribed",
        LifecycleEventKinds.Unsubscribed => "unsubscribed",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not exactly one event kind"),
    };

    /// <summary>The kind named <paramref name="name"/>, or <see cref="LifecycleEventKinds.None"/> for an unknown name (a newer gateway's kind: skip it).</summary>
    public static LifecycleEventKinds Parse(string? name) => name switch
    {
        "connected" => LifecycleEventKinds.Connected,
        "disconnected" => LifecycleEventKinds.Disconnected,
        "subscribed" => LifecycleEventKinds.Subscribed,
        "unsubscribed" => LifecycleEventKinds.Unsubscribed,
        _ => LifecycleEventKinds.None,
    };
}

/// <summary><see cref="LifecycleEvent.Reason"/> values the silo sets itself (edges send a <c>bye</c> code or <c>normal</c>, …).</summary>
public static class LifecycleEventReasons
{
    /// <summary>The edge did not say why (an edge with <c>Disconnected</c> events off, or of an earlier release).</summary>
    public const string Unknown = "unknown";

    /// <summary>The silo dropped the session because its edge's lease lapsed: the edge died (SIGKILL, crash, partition).</summary>
    public const string EdgeLost = "edge_lost";
}
