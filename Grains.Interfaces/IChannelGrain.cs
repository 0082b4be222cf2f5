namespace OrleansGateway.Grains;

/// <summary>
/// A pub/sub channel as backends see it (key = channel name): publish to it, read its retained history. What edges
/// and silos call among themselves (edge subscriptions, re-push) is <see cref="IChannelSubscriptionGrain"/>, on the
/// same grain. The wire alias is new with this contract, as <see cref="IClientGrain"/>'s.
/// </summary>
[Alias("ogw.backend.IChannelGrain")]
public interface IChannelGrain : IGrainWithStringKey
{
    /// <summary>Appends a publication and pushes it to every subscribed edge. Returns its offset.</summary>
    /// <param name="from">Publisher: a backend's name, or a client id.</param>
    /// <param name="data">Payload as raw UTF-8 JSON.</param>
    [Alias("Publish")]
    Task<long> PublishAsync(string from, byte[] data);

    /// <summary>The current offset and, when <paramref name="since"/> is given, retained publications after it.</summary>
    [Alias("ReadSince")]
    Task<StreamReplay> ReadSinceAsync(long? since);

    /// <summary>Number of edges currently subscribed.</summary>
    [Alias("GetEdgeCount")]
    Task<int> GetEdgeCountAsync();
}
