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

    /// <summary>
    /// As <see cref="PublishAsync(string, byte[])"/>, but accepted at most once per (<paramref name="from"/>,
    /// <paramref name="key"/>) within the de-duplication window; a repeat is answered with the original offset and
    /// <see cref="Accepted.Duplicate"/> set. A key reused with different data throws <see cref="IdempotencyKeyReusedException"/>.
    /// </summary>
    [Alias("PublishOnce")]
    Task<Accepted> PublishOnceAsync(string from, byte[] data, string key);

    /// <summary>Who is in the channel: one entry per client id (not per session), ordered by client id, a bounded page.</summary>
    /// <param name="after">Return members whose client id sorts after this one (the previous page's last), or null for the first page.</param>
    /// <param name="limit">Page size; the grain caps it.</param>
    [Alias("GetMembers")]
    Task<ChannelMembers> GetMembersAsync(string? after, int limit);

    /// <summary>Counts only, cheap for huge channels.</summary>
    [Alias("GetMemberStats")]
    Task<ChannelMemberStats> GetMemberStatsAsync();

    /// <summary>The current offset and, when <paramref name="since"/> is given, retained publications after it.</summary>
    [Alias("ReadSince")]
    Task<StreamReplay> ReadSinceAsync(long? since);

    /// <summary>Number of edges currently subscribed.</summary>
    [Alias("GetEdgeCount")]
    Task<int> GetEdgeCountAsync();
}
