using System.ComponentModel;
using Orleans.Concurrency;

namespace OrleansGateway.Grains;

/// <summary>
/// The client grain as edges and silos call it: sessions attach and detach, edges repair delivery gaps and send on a
/// connected client's behalf, the silo's sweep asks for a re-push. Not for backends (<see cref="IClientGrain"/>).
/// </summary>
/// <remarks>
/// It keeps the client grain's original wire alias (<c>ogw.IClientGrain</c>, and each method's), so edges and silos of
/// the previous release and of this one call each other unchanged during a rolling deploy, in either order.
/// </remarks>
[Alias("ogw.IClientGrain")]
public interface IClientSessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Attaches a session held by <paramref name="edgeId"/> and returns the welcome state and every retained message
    /// after <paramref name="lastSeq"/>; live messages follow through <paramref name="edge"/>. Refused (nothing
    /// attached, <see cref="StreamReplay.SessionLimitReached"/> set) when the client already has
    /// <paramref name="maxSessions"/> sessions across all edges: the cluster-wide cap on tabs and devices. Repeatable:
    /// a session id is recorded once.
    /// </summary>
    /// <param name="edgeId">The edge instance id (one per edge process).</param>
    /// <param name="edge">That edge's observer; messages are pushed once per edge.</param>
    /// <param name="sessionId">Edge-local session id.</param>
    /// <param name="lastSeq">The highest seq the client has processed, or null for a fresh start.</param>
    /// <param name="maxSessions">The client's session cap across the cluster.</param>
    [Alias("AttachCapped")]
    Task<StreamReplay> AttachAsync(string edgeId, IEdgeObserver edge, long sessionId, long? lastSeq, int maxSessions);

    /// <summary>Detaches a session. Idempotent.</summary>
    [Alias("Detach")]
    Task DetachAsync(string edgeId, long sessionId);

    /// <summary>
    /// Detaches a session, saying why it ended (the <c>disconnected</c> lifecycle event's <c>reason</c> and
    /// <c>code</c>). Idempotent. Edges call it only with <c>Disconnected</c> events on (<see cref="GatewayEventsOptions"/>),
    /// which needs silos of this release: with events off they keep calling <see cref="DetachAsync(string, long)"/>,
    /// so mixed releases during a rolling deploy keep working.
    /// </summary>
    [Alias("DetachWithReason")]
    Task DetachAsync(string edgeId, long sessionId, string reason, int? code);

    /// <summary>
    /// A session subscribed to or unsubscribed from <paramref name="channel"/>: the <c>subscribed</c>/<c>unsubscribed</c>
    /// lifecycle events. Not one-way: the edge awaits it (after answering the client) before the session's next frame, so
    /// the grain sees the change before a later detach. Edges call it only with those events on (as
    /// <see cref="DetachAsync(string, long, string, int?)"/>).
    /// </summary>
    [Alias("ChannelChanged")]
    Task ChannelChangedAsync(string edgeId, long sessionId, string channel, bool subscribed);

    /// <summary>Messages retained after <paramref name="afterSeq"/>, in order (edges use it to repair a gap).</summary>
    [Alias("ReadSince")]
    Task<StreamReplay> ReadSinceAsync(long afterSeq);

    /// <summary>
    /// Pushes the newest retained message to every attached edge once more. The silo's sweep calls it once per
    /// interval for grains that pushed since the last sweep, so a lost push that was the last before a quiet period
    /// is still repaired (edges drop the repeat as a duplicate when nothing was lost).
    /// </summary>
    [Alias("RepushLast")]
    Task RepushLastAsync();

    /// <summary>A connected client's <c>send</c>, as <see cref="IClientGrain.SendAsync"/>.</summary>
    [Alias("Send")]
    Task<long> SendAsync(string from, byte[] data);

    /// <summary>A connected client's keyed <c>send</c>, as <see cref="IClientGrain.SendOnceAsync"/> (one implementation).</summary>
    [Alias("SendOnce")]
    Task<Accepted> SendOnceAsync(string from, byte[] data, string key);

    /// <summary>
    /// A connected client's <c>send</c>, keyed or not, answered through the sender's edge: one-way, and the grain queues
    /// a <see cref="SendAck"/> for <paramref name="ticket"/> on the silo's push to <paramref name="edgeId"/>, where it rides with the
    /// messages pushed there in the same instant (always with the recipient's own message when both clients are on the
    /// same edge). Saves the response message of <see cref="SendAsync(string, byte[])"/> per send. An edge that gets no
    /// answer within its call timeout answers the client <c>err unavailable</c>, as it does when a response times out.
    /// Silos of earlier releases drop this call unread: edges use it only when <c>Gateway:Edge:SendAcksInPush</c> is on
    /// (docs/operations.md, "Wire compatibility").
    /// </summary>
    /// <param name="from">The sender's client id.</param>
    /// <param name="data">The message payload.</param>
    /// <param name="key">The send's idempotency key, or null.</param>
    /// <param name="edgeId">The sending session's edge (its <see cref="IEdgeGrain"/> key): where the answer goes.</param>
    /// <param name="ticket">The edge's number for this send, unique within the edge process (<see cref="SendAck.Ticket"/>).</param>
    [OneWay, Alias("SendTicketed")]
    Task SendOneWayAsync(string from, byte[] data, string? key, string edgeId, long ticket);

    /// <summary>
    /// Whether this client's keyed <c>up</c> to <paramref name="topic"/> was already produced within the window (then
    /// the edge answers <c>dup</c> and produces nothing). The client's grain owns the window, so a repeat from any of
    /// its sessions, on any edge, is recognised.
    /// </summary>
    /// <param name="topic">The frame's <c>topic</c>: keys are per topic.</param>
    /// <param name="key">The frame's <c>key</c>.</param>
    /// <param name="hash">The data's <see cref="IdempotencyKeys.Hash"/>.</param>
    /// <exception cref="IdempotencyKeyReusedException">The key was produced with other data.</exception>
    [Alias("UpstreamProduced")]
    Task<bool> WasUpstreamProducedAsync(string topic, string key, ulong hash);

    /// <summary>Records that this client's keyed <c>up</c> was produced (the broker acknowledged it).</summary>
    [Alias("UpstreamProducedNow")]
    Task UpstreamProducedAsync(string topic, string key, ulong hash);

    /// <summary>Wire compatibility only: backends built against the previous release call this alias (use <see cref="IClientGrain"/>).</summary>
    [Alias("Disconnect"), EditorBrowsable(EditorBrowsableState.Never)]
    Task<int> DisconnectAsync(string code);

    /// <summary>Wire compatibility only: backends built against the previous release call this alias (use <see cref="IClientGrain"/>).</summary>
    [Alias("GetPresence"), EditorBrowsable(EditorBrowsableState.Never)]
    Task<Presence> GetPresenceAsync();
}
