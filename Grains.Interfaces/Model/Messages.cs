namespace OrleansGateway.Grains;

/// <summary>One message in a client's mailbox, or one publication in a channel's history.</summary>
/// <param name="Seq">Mailbox <c>seq</c> or channel <c>off</c>: increases by exactly 1 per message.</param>
/// <param name="From">Sender: a client id, or a backend's name.</param>
/// <param name="Data">The message payload as raw UTF-8 JSON, passed through untouched.</param>
/// <param name="AcceptedAtUnixMs">When the mailbox accepted it (milliseconds since the Unix epoch), for latency metrics and age retention.</param>
[GenerateSerializer, Immutable, Alias("ogw.MailboxMessage")]
public sealed record StreamMessage(
    [property: Id(0)] long Seq,
    [property: Id(1)] string From,
    [property: Id(2)] byte[] Data,
    [property: Id(3)] long AcceptedAtUnixMs)
{
    /// <summary>
    /// The W3C <c>traceparent</c> of the call that appended it, only when that call was sampled (null otherwise, and
    /// always with tracing off): pushes are batched per edge, so the recipient's edge parents its delivery span on this.
    /// Last and optional, so peers built before it still read the record.
    /// </summary>
    [Id(4)]
    public string? TraceParent { get; init; }
}

/// <summary>Messages for one client, pushed once to an edge that holds at least one of its sessions.</summary>
[GenerateSerializer, Immutable, Alias("ogw.MailboxBatch")]
public sealed record MailboxBatch(
    [property: Id(0)] string ClientId,
    [property: Id(1)] IReadOnlyList<StreamMessage> Messages)
{
    /// <summary>A batch of one message, held in an array.</summary>
    /// <remarks>
    /// Not a collection expression: <c>[message]</c> typed as <see cref="IReadOnlyList{T}"/> compiles to a
    /// compiler-synthesized list type that no Orleans codec knows, and Orleans then searches its codecs by reflection
    /// on every serialization (a failed lookup is not cached): measured as the silos' top reflection frame per push.
    /// </remarks>
    public static MailboxBatch Of(string clientId, StreamMessage message) => new(clientId, new[] { message });
}

/// <summary>Publications on one channel, pushed once to an edge with at least one local subscriber.</summary>
[GenerateSerializer, Immutable, Alias("ogw.ChannelBatch")]
public sealed record ChannelBatch(
    [property: Id(0)] string Channel,
    [property: Id(1)] IReadOnlyList<StreamMessage> Messages)
{
    /// <summary>A batch of one publication, held in an array (see <see cref="MailboxBatch.Of"/> for why).</summary>
    public static ChannelBatch Of(string channel, StreamMessage publication) => new(channel, new[] { publication });

    /// <summary>
    /// Joins and leaves, pushed to the channel's edges (each hands them to its sessions watching presence), in the channel's push order (a batch
    /// carries either publications or presence changes). Last and optional, so peers built before it still read the record.
    /// </summary>
    [Id(2)]
    public PresenceChange[]? Presence { get; init; }

    /// <summary>A batch of presence changes only.</summary>
    public static ChannelBatch OfPresence(string channel, PresenceChange[] changes) => new(channel, Array.Empty<StreamMessage>()) { Presence = changes };
}

/// <summary>
/// What one silo pushes to one edge in one call: the message batches of several clients and the publication batches
/// of several channels that its grains pushed in the same instant.
/// </summary>
/// <param name="Mailboxes">Clients' new messages; a client's batches in the order its grain pushed them.</param>
/// <param name="Channels">Channels' new publications; a channel's batches in the order its grain pushed them.</param>
[GenerateSerializer, Immutable, Alias("ogw.EdgePush")]
public sealed record EdgePush(
    [property: Id(0)] MailboxBatch[] Mailboxes,
    [property: Id(1)] ChannelBatch[] Channels)
{
    /// <summary>
    /// The answers to <c>send</c>s this edge's sessions made one-way (<see cref="IClientSessionGrain.SendOneWayAsync"/>),
    /// in no particular order: they ride with the messages pushed to the edge in the same instant instead of each
    /// costing a response message. Last and optional, so peers built before it still read the record.
    /// </summary>
    [Id(2)]
    public SendAck[]? Acks { get; init; }
}

/// <summary>The answer to one ticketed <c>send</c>.</summary>
/// <param name="Ticket">The edge's number of the send it answers.</param>
/// <param name="Outcome">What became of the send.</param>
/// <param name="Seq">The seq the message was given (the first one, for a repeated key); 0 when not accepted.</param>
[GenerateSerializer, Immutable, Alias("ogw.SendAck")]
public readonly record struct SendAck(
    [property: Id(0)] long Ticket,
    [property: Id(1)] SendOutcome Outcome,
    [property: Id(2)] long Seq);

/// <summary>What became of a ticketed <c>send</c>.</summary>
[GenerateSerializer, Alias("ogw.SendOutcome")]
public enum SendOutcome : byte
{
    /// <summary>Appended to the recipient's mailbox.</summary>
    Accepted = 0,

    /// <summary>A keyed send whose key was already accepted: nothing appended, <see cref="SendAck.Seq"/> is the first one's.</summary>
    Duplicate = 1,

    /// <summary>A keyed send whose key was accepted with other data: refused.</summary>
    KeyReused = 2,

    /// <summary>The mailbox could not take it (its store failed): not appended, the client may retry.</summary>
    Unavailable = 3,
}

/// <summary>What an edge needs to greet a session: the <c>welcome</c> frame and the replay that follows it.</summary>
/// <param name="Seq">The last seq in the mailbox when the session attached.</param>
/// <param name="Recovered">True when every message after the requested <c>last_seq</c> is in <paramref name="Replay"/>.</param>
/// <param name="Replay">Retained messages after <c>last_seq</c>, in order; empty on a fresh start.</param>
[GenerateSerializer, Immutable, Alias("ogw.AttachResult")]
public sealed record StreamReplay(
    [property: Id(0)] long Seq,
    [property: Id(1)] bool Recovered,
    [property: Id(2)] IReadOnlyList<StreamMessage> Replay)
{
    /// <summary>True when the attach was refused because the client is at its session cap; nothing was attached.</summary>
    [Id(3)]
    public bool SessionLimitReached { get; init; }
}

/// <summary>Whether a client is online, for backends.</summary>
/// <param name="Online">True when at least one session is attached through an edge whose lease is current.</param>
/// <param name="Sessions">Number of attached sessions (tabs, devices).</param>
/// <param name="Seq">The last seq in the client's mailbox.</param>
[GenerateSerializer, Immutable, Alias("ogw.Presence")]
public sealed record Presence(
    [property: Id(0)] bool Online,
    [property: Id(1)] int Sessions,
    [property: Id(2)] long Seq);

/// <summary>An edge's lease as the edge grain knows it.</summary>
[GenerateSerializer, Immutable, Alias("ogw.EdgeLease")]
public sealed record EdgeLease(
    [property: Id(0)] IEdgeObserver? Observer,
    [property: Id(1)] DateTimeOffset ExpiresAt);

/// <summary>What an idempotent send or publish was given.</summary>
/// <param name="Position">The seq (mailbox) or offset (channel) assigned when the key was first accepted.</param>
/// <param name="Duplicate">True when this call repeated a key already accepted: nothing was appended or delivered.</param>
[GenerateSerializer, Immutable, Alias("ogw.Accepted")]
public sealed record Accepted(
    [property: Id(0)] long Position,
    [property: Id(1)] bool Duplicate);

/// <summary>A page of a channel's members (client ids with at least one subscribed session).</summary>
/// <param name="Total">Members in the channel now.</param>
/// <param name="Members">This page, ordered by client id.</param>
/// <param name="Next">The value to pass as <c>after</c> for the next page, or null when this is the last.</param>
[GenerateSerializer, Immutable, Alias("ogw.ChannelMembers")]
public sealed record ChannelMembers(
    [property: Id(0)] int Total,
    [property: Id(1)] IReadOnlyList<ChannelMember> Members,
    [property: Id(2)] string? Next);

/// <summary>One member of a channel.</summary>
[GenerateSerializer, Immutable, Alias("ogw.ChannelMember")]
public sealed record ChannelMember(
    [property: Id(0)] string ClientId,
    [property: Id(1)] int Sessions);

/// <summary>A channel's presence counts.</summary>
[GenerateSerializer, Immutable, Alias("ogw.ChannelMemberStats")]
public sealed record ChannelMemberStats(
    [property: Id(0)] int Clients,
    [property: Id(1)] int Sessions);

/// <summary>
/// How many sessions of one client follow a channel through one edge, as that edge reports it: absolute, so a
/// repeated or re-ordered report is harmless and 0 means "none here any more".
/// </summary>
[GenerateSerializer, Immutable, Alias("ogw.MemberCount")]
public sealed record MemberCount(
    [property: Id(0)] string ClientId,
    [property: Id(1)] int Sessions);

/// <summary>
/// One edge's member changes on one channel since its previous report: sent at most once per channel per
/// reporting interval, so a channel's churn costs its grain one call per edge per interval, not one per join.
/// </summary>
/// <param name="Counts">Clients whose local session count changed, with the count now.</param>
/// <param name="Watching">True while at least one local session follows the channel with presence events.</param>
/// <param name="Full">True when <paramref name="Counts"/> is everything the edge has on the channel: members of this edge missing from it are gone (the edge re-reports after its channel grain may have lost them).</param>
[GenerateSerializer, Immutable, Alias("ogw.MemberReport")]
public sealed record MemberReport(
    [property: Id(0)] MemberCount[] Counts,
    [property: Id(1)] bool Watching,
    [property: Id(2)] bool Full);

/// <summary>A client joined (first session anywhere) or left (no session anywhere) a channel, as edges push it.</summary>
[GenerateSerializer, Immutable, Alias("ogw.PresenceChange")]
public sealed record PresenceChange(
    [property: Id(0)] string ClientId,
    [property: Id(1)] bool Joined);
