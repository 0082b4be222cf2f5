using Orleans.Streams;
using OrleansGateway.Grains;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.Events;

/// <summary>A backend following the lifecycle events on the gateway's memory stream, as <c>IGatewayBackend.SubscribeLifecycleAsync</c> does.</summary>
internal sealed class LifecycleEventRecorder : IAsyncDisposable
{
    private readonly List<LifecycleEvent> _events = [];
    private StreamSubscriptionHandle<LifecycleEvent>? _handle;

    public static async Task<LifecycleEventRecorder> StartAsync(IClusterClient backend)
    {
        var recorder = new LifecycleEventRecorder();
        var stream = backend.GetStreamProvider(LifecycleEvents.ProviderName)
            .GetStream<LifecycleEvent>(StreamId.Create(GatewayEventsOptions.DefaultTopic, LifecycleEvents.StreamKey));
        recorder._handle = await stream.SubscribeAsync((e, _) =>
        {
            lock (recorder._events)
            {
                recorder._events.Add(e);
            }

            return Task.CompletedTask;
        });
        return recorder;
    }

    /// <summary>The events of <paramref name="clientId"/> so far, in arrival order.</summary>
    public IReadOnlyList<LifecycleEvent> Of(string clientId)
    {
        lock (_events)
        {
            return _events.Where(e => e.ClientId == clientId).ToList();
        }
    }

    /// <summary>Waits until <paramref name="clientId"/> has at least <paramref name="count"/> events; returns them all.</summary>
    public async Task<IReadOnlyList<LifecycleEvent>> WaitForAsync(string clientId, int count, TimeSpan? timeout = null)
    {
        await GatewayClusterExtensions.EventuallyAsync(() => Task.FromResult(Of(clientId).Count >= count), timeout ?? TestClient.DefaultTimeout,
            $"{count} lifecycle event(s) of {clientId} (have: {string.Join(", ", Of(clientId).Select(e => LifecycleEvents.Name(e.Kind)))})");
        return Of(clientId);
    }

    public async ValueTask DisposeAsync()
    {
        if (_handle is not null)
        {
            await _handle.UnsubscribeAsync();
        }
    }
}
