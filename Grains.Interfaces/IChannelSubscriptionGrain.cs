namespace OrleansGateway.Grains;

/// <summary>
/// The channel grain as edges and silos call it: an edge subscribes on its first local subscriber and unsubscribes
/// after its last, publishes a connected client's <c>pub</c>, reads history to repair a gap; the silo's sweep asks for
/// a re-push. Not for backends (<see cref="IChannelGrain"/>).
/// </summary>
/// <remarks>
/// It keeps the channel grain's original wire alias (<c>ogw.IChannelGrain</c>, and each method's), so edges and silos
/// of the previous release and of this one call each other unchanged during a rolling deploy, in either order; old
/// backends' calls to <c>Publish</c>, <c>ReadSince</c> and <c>GetEdgeCount</c> are answered here too.
/// </remarks>
[Alias("ogw.IChannelGrain")]
public interface IChannelSubscriptionGrain : IGrainWithStringKey
{
    /// <summary>A connected client's <c>pub</c>, as <see cref="IChannelGrain.PublishAsync"/>.</summary>
    [Alias("Publish")]
    Task<long> PublishAsync(string from, byte[] data);

    /// <summary>A connected client's keyed <c>pub</c>, as <see cref="IChannelGrain.PublishOnceAsync"/> (one implementation).</summary>
    [Alias("PublishOnce")]
    Task<Accepted> PublishOnceAsync(string from, byte[] data, string key);

    /// <summary>
    /// Subscribes an edge (idempotent: edges also call it to re-register). Returns the current offset and, when
    /// <paramref name="since"/> is given, the retained publications after it (<see cref="StreamReplay.Recovered"/>
    /// false when history no longer reaches back).
    /// </summary>
    [Alias("SubscribeEdge")]
    Task<StreamReplay> SubscribeEdgeAsync(string edgeId, IEdgeObserver edge, long? since);

    /// <summary>Unsubscribes an edge (its last local subscriber left). Idempotent.</summary>
    [Alias("UnsubscribeEdge")]
    Task UnsubscribeEdgeAsync(string edgeId);

    /// <summary>
    /// Pushes the newest retained publication to every subscribed edge once more (the silo's sweep, as
    /// <see cref="IClientSessionGrain.RepushLastAsync"/>).
    /// </summary>
    [Alias("RepushLast")]
    Task RepushLastAsync();

    /// <summary>The current offset and, when <paramref name="since"/> is given, retained publications after it.</summary>
    [Alias("ReadSince")]
    Task<StreamReplay> ReadSinceAsync(long? since);

    /// <summary>Number of edges currently subscribed (tests; previous-release backends).</summary>
    [Alias("GetEdgeCount")]
    Task<int> GetEdgeCountAsync();
}
