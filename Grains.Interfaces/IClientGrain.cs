namespace OrleansGateway.Grains;

/// <summary>
/// The per-client grain (key = client id, the JWT <c>sub</c>): a sequence-numbered mailbox with bounded
/// retention, and the sessions currently attached to it through edges.
/// </summary>
/// <remarks>
/// Backends call <see cref="SendAsync"/>, <see cref="DisconnectAsync"/> and <see cref="GetPresenceAsync"/>
/// through any Orleans client; edges call <c>AttachAsync</c> and <see cref="DetachAsync"/>.
/// </remarks>
[Alias("ogw.IClientGrain")]
public interface IClientGrain : IGrainWithStringKey
{
    /// <summary>
    /// Attaches a session held by <paramref name="edgeId"/>. Returns the welcome state and every retained
    /// message after <paramref name="lastSeq"/>; live messages follow through <paramref name="edge"/>.
    /// </summary>
    /// <param name="edgeId">The edge instance id (one per edge process).</param>
    /// <param name="edge">That edge's observer; messages are pushed once per edge.</param>
    /// <param name="sessionId">Edge-local session id.</param>
    /// <param name="lastSeq">The highest seq the client has processed, or null for a fresh start.</param>
    [Alias("Attach")]
    Task<AttachResult> AttachAsync(string edgeId, IEdgeObserver edge, long sessionId, long? lastSeq);

    /// <summary>
    /// As <see cref="AttachAsync(string, IEdgeObserver, long, long?)"/>, but refused (nothing attached,
    /// <see cref="AttachResult.SessionLimitReached"/> set) when the client already has
    /// <paramref name="maxSessions"/> sessions across all edges: the cluster-wide cap on tabs and devices.
    /// </summary>
    [Alias("AttachCapped")]
    Task<AttachResult> AttachAsync(string edgeId, IEdgeObserver edge, long sessionId, long? lastSeq, int maxSessions);

    /// <summary>
    /// Pushes the newest retained message to every attached edge once more. The silo's sweep calls it once per
    /// interval for grains that pushed since the last sweep, so a lost push that was the last before a quiet period
    /// is still repaired (edges drop the repeat as a duplicate when nothing was lost). Not for backends.
    /// </summary>
    [Alias("RepushLast")]
    Task RepushLastAsync();

    /// <summary>Detaches a session. Idempotent.</summary>
    [Alias("Detach")]
    Task DetachAsync(string edgeId, long sessionId);

    /// <summary>
    /// Appends a message to the mailbox and pushes it to every edge holding a session. When this returns,
    /// the message is retained: the sender may be told <c>ok</c>.
    /// </summary>
    /// <param name="from">Sender client id, or a backend's name.</param>
    /// <param name="data">Payload as raw UTF-8 JSON.</param>
    /// <returns>The seq assigned to the message.</returns>
    [Alias("Send")]
    Task<long> SendAsync(string from, byte[] data);

    /// <summary>Messages retained after <paramref name="afterSeq"/>, in order (edges use it to repair a gap).</summary>
    [Alias("ReadSince")]
    Task<AttachResult> ReadSinceAsync(long afterSeq);

    /// <summary>Closes every session of the client with <c>bye</c> <paramref name="code"/>. Returns how many were told.</summary>
    [Alias("Disconnect")]
    Task<int> DisconnectAsync(string code);

    /// <summary>Whether the client is online and how many sessions it has.</summary>
    [Alias("GetPresence")]
    Task<Presence> GetPresenceAsync();
}
