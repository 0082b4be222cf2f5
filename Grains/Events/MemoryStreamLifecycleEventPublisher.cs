using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace OrleansGateway.Grains.Events;

/// <summary>
/// The embedded default: events go to the Orleans memory stream <see cref="GatewayEventsOptions.Topic"/> /
/// <see cref="LifecycleEvents.StreamKey"/> of provider <see cref="LifecycleEvents.ProviderName"/>, where .NET backends
/// subscribe (<c>IGatewayBackend.SubscribeLifecycleAsync</c>).
/// </summary>
internal sealed class MemoryStreamLifecycleEventPublisher(IClusterClient cluster, IOptions<GatewayEventsOptions> options) : ILifecycleEventPublisher
{
    private readonly Lazy<IAsyncStream<LifecycleEvent>> _stream = new(() =>
        cluster.GetStreamProvider(LifecycleEvents.ProviderName).GetStream<LifecycleEvent>(StreamId.Create(options.Value.Topic, LifecycleEvents.StreamKey)));

    public Task PublishAsync(LifecycleEvent e) => _stream.Value.OnNextAsync(e);
}
