namespace OrleansGateway.Grains;

/// <summary>
/// A pub/sub channel (key = channel name): the offset counter, a bounded history, and the set of edges with at
/// least one local subscriber. Publications are pushed once per edge; edges fan out to their own sockets.
/// </summary>
[Alias("ogw.IChannelGrain")]
public interface IChannelGrain : IGrainWithStringKey
{
    /// <summary>Appends a publication and pushes it to every subscribed edge. Returns its offset.</summary>
    /// <param name="from">Publisher client id, or a backend's name.</param>
    /// <param name="data">Payload as raw UTF-8 JSON.</param>
    [Alias("Publish")]
    Task<long> PublishAsync(string from, byte[] data);

    /// <summary>
    /// Subscribes an edge (idempotent: edges also call it to re-register). Returns the current offset and, when
    /// <paramref name="since"/> is given, the retained publications after it (<see cref="AttachResult.Recovered"/>
    /// false when history no longer reaches back).
    /// </summary>
    [Alias("SubscribeEdge")]
    Task<AttachResult> SubscribeEdgeAsync(string edgeId, IEdgeObserver edge, long? since);

    /// <summary>Unsubscribes an edge (its last local subscriber left). Idempotent.</summary>
    [Alias("UnsubscribeEdge")]
    Task UnsubscribeEdgeAsync(string edgeId);

    /// <summary>
    /// Pushes the newest retained message to every attached edge once more. The silo's sweep calls it once per
    /// interval for grains that pushed since the last sweep, so a lost push that was the last before a quiet period
    /// is still repaired (edges drop the repeat as a duplicate when nothing was lost). Not for backends.
    /// </summary>
    [Alias("RepushLast")]
    Task RepushLastAsync();

    /// <summary>The current offset and, when <paramref name="since"/> is given, retained publications after it.</summary>
    [Alias("ReadSince")]
    Task<AttachResult> ReadSinceAsync(long? since);

    /// <summary>Number of edges currently subscribed (for backends and tests).</summary>
    [Alias("GetEdgeCount")]
    Task<int> GetEdgeCountAsync();
}
