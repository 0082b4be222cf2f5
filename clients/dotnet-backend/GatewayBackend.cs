using System.Text.Json;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using OrleansGateway.Grains;

namespace OrleansGateway.Backend;

/// <summary>The facade over <see cref="IClientGrain"/>, <see cref="IChannelGrain"/> and the upstream stream.</summary>
internal sealed class GatewayBackend(IClusterClient cluster, IOptions<GatewayBackendOptions> options) : IGatewayBackend
{
    private readonly GatewayBackendOptions _options = options.Value;

    public async Task<Accepted> SendAsync<T>(string clientId, T message, string? idempotencyKey = null)
    {
        var client = cluster.GetGrain<IClientGrain>(clientId);
        var data = Serialize(message);
        return idempotencyKey is null
            ? new Accepted(await client.SendAsync(_options.Name, data), Duplicate: false)
            : await client.SendOnceAsync(_options.Name, data, idempotencyKey);
    }

    public async Task<Accepted> PublishAsync<T>(string channel, T message, string? idempotencyKey = null)
    {
        var grain = cluster.GetGrain<IChannelGrain>(channel);
        var data = Serialize(message);
        return idempotencyKey is null
            ? new Accepted(await grain.PublishAsync(_options.Name, data), Duplicate: false)
            : await grain.PublishOnceAsync(_options.Name, data, idempotencyKey);
    }

    public Task<int> DisconnectAsync(string clientId, string code = "policy") => cluster.GetGrain<IClientGrain>(clientId).DisconnectAsync(code);

    public Task<Presence> GetPresenceAsync(string clientId) => cluster.GetGrain<IClientGrain>(clientId).GetPresenceAsync();

    public Task<ChannelMembers> GetChannelMembersAsync(string channel, string? after = null, int limit = 100) =>
        cluster.GetGrain<IChannelGrain>(channel).GetMembersAsync(after, limit);

    public Task<ChannelMemberStats> GetChannelStatsAsync(string channel) => cluster.GetGrain<IChannelGrain>(channel).GetMemberStatsAsync();

    public async Task<IAsyncDisposable> SubscribeUpstreamAsync(string topic, Func<UpstreamMessage, Task> handler)
    {
        var stream = cluster.GetStreamProvider(UpstreamStreams.ProviderName).GetStream<UpstreamMessage>(StreamId.Create(UpstreamStreams.Namespace, topic));
        return new Subscription<UpstreamMessage>(await stream.SubscribeAsync((message, _) => handler(message)));
    }

    public async Task<IAsyncDisposable> SubscribeLifecycleAsync(Func<LifecycleEvent, Task> handler, string topic = GatewayEventsOptions.DefaultTopic)
    {
        var stream = cluster.GetStreamProvider(LifecycleEvents.ProviderName).GetStream<LifecycleEvent>(StreamId.Create(topic, LifecycleEvents.StreamKey));
        return new Subscription<LifecycleEvent>(await stream.SubscribeAsync((e, _) => handler(e)));
    }

    private byte[] Serialize<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, _options.SerializerOptions);

    private sealed class Subscription<T>(StreamSubscriptionHandle<T> handle) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await handle.UnsubscribeAsync();
    }
}
