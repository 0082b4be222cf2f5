using OrleansGateway.Grains;

namespace OrleansGateway.Backend;

/// <summary>
/// What a .NET backend does with the gateway's clients, like SignalR's <c>IHubContext</c>: send to a client, publish on
/// a channel, disconnect, ask who is online, follow what clients send upstream. Obtained from DI after
/// <see cref="GatewayBackendClientBuilderExtensions.AddGatewayBackend"/>. Messages are serialized with
/// <see cref="GatewayBackendOptions.SerializerOptions"/>; what clients receive as <c>data</c> is that JSON, untouched.
/// </summary>
public interface IGatewayBackend
{
    /// <summary>
    /// Appends <paramref name="message"/> to the client's mailbox and pushes it to its sessions; retained for when it
    /// resumes. With <paramref name="idempotencyKey"/> it is accepted at most once per key (a repeat answers the same
    /// seq with <see cref="Accepted.Duplicate"/>; the key with other data throws <see cref="IdempotencyKeyReusedException"/>).
    /// </summary>
    Task<Accepted> SendAsync<T>(string clientId, T message, string? idempotencyKey = null);

    /// <summary>Publishes on <paramref name="channel"/> (idempotency as for <see cref="SendAsync{T}"/>). Returns the offset.</summary>
    Task<Accepted> PublishAsync<T>(string channel, T message, string? idempotencyKey = null);

    /// <summary>Closes every session of the client with <c>bye</c> <paramref name="code"/>; returns how many were told.</summary>
    Task<int> DisconnectAsync(string clientId, string code = "policy");

    /// <summary>Whether the client is online, its sessions and its mailbox's last seq.</summary>
    Task<Presence> GetPresenceAsync(string clientId);

    /// <summary>A bounded page of a channel's members, ordered by client id (<paramref name="after"/> = the previous page's <see cref="ChannelMembers.Next"/>).</summary>
    Task<ChannelMembers> GetChannelMembersAsync(string channel, string? after = null, int limit = 100);

    /// <summary>A channel's member counts only (cheap for huge channels).</summary>
    Task<ChannelMemberStats> GetChannelStatsAsync(string channel);

    /// <summary>
    /// Calls <paramref name="handler"/> for every <c>up</c> frame clients send on <paramref name="topic"/> (the gateway's
    /// memory stream, when Kafka is not configured). Dispose the result to stop.
    /// </summary>
    Task<IAsyncDisposable> SubscribeUpstreamAsync(string topic, Func<UpstreamMessage, Task> handler);

    /// <summary>
    /// Calls <paramref name="handler"/> for every connection lifecycle event the silos produce (<c>connected</c>,
    /// <c>disconnected</c>, <c>subscribed</c>, <c>unsubscribed</c>: those turned on in <c>Gateway:Events:Kinds</c>) on the
    /// gateway's memory stream, when Kafka is not configured (with Kafka, consume the events topic and read each value
    /// with <see cref="LifecycleEventJson.TryRead"/>). One client's events arrive in order; at least once (docs/events.md).
    /// Dispose the result to stop.
    /// </summary>
    /// <param name="handler">Called once per event, one at a time.</param>
    /// <param name="topic">The silos' <c>Gateway:Events:Topic</c>; default <see cref="GatewayEventsOptions.DefaultTopic"/>.</param>
    Task<IAsyncDisposable> SubscribeLifecycleAsync(Func<LifecycleEvent, Task> handler, string topic = GatewayEventsOptions.DefaultTopic);
}
