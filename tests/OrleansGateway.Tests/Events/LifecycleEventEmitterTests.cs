using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Events;

namespace OrleansGateway.Tests.Events;

public sealed class LifecycleEventEmitterTests : IDisposable
{
    private static readonly LifecycleEvent Connected = new(LifecycleEventKinds.Connected, "alice", "edge-1", 1, 0);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _counts = [];

    public LifecycleEventEmitterTests()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name.StartsWith("ogw.events.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (_counts)
            {
                _counts[instrument.Name] = _counts.GetValueOrDefault(instrument.Name) + value;
            }
        });
        _listener.Start();
    }

    [Fact]
    public async Task PublishAsync_BrokerFails_CompletesAndCountsFailed()
    {
        var emitter = Create(new Publisher(_ => Task.FromException(new InvalidOperationException("broker down"))));

        await emitter.PublishAsync(Connected); // does not throw: the connection never fails for an event

        Assert.Equal(1, Count("ogw.events.failed"));
        Assert.Equal(0, Count("ogw.events.published"));
    }

    [Fact]
    public async Task PublishAsync_BrokerTakesIt_CountsPublished()
    {
        LifecycleEvent? taken = null;
        var emitter = Create(new Publisher(e =>
        {
            taken = e;
            return Task.CompletedTask;
        }));

        await emitter.PublishAsync(Connected);

        Assert.Same(Connected, taken);
        Assert.Equal(1, Count("ogw.events.published"));
    }

    [Fact]
    public void Dropped_TooManyPending_CountsDropped()
    {
        Create(new Publisher(_ => Task.CompletedTask)).Dropped(Connected);
        Assert.Equal(1, Count("ogw.events.dropped"));
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    private LifecycleEventEmitter Create(ILifecycleEventPublisher publisher) => new(
        Microsoft.Extensions.Options.Options.Create(new GatewayEventsOptions { Kinds = LifecycleEventKinds.All }),
        publisher,
        NullLogger<LifecycleEventEmitter>.Instance,
        _services.GetRequiredService<IMeterFactory>());

    private long Count(string name)
    {
        lock (_counts)
        {
            return _counts.GetValueOrDefault(name);
        }
    }

    private sealed class Publisher(Func<LifecycleEvent, Task> publish) : ILifecycleEventPublisher
    {
        public Task PublishAsync(LifecycleEvent e) => publish(e);
    }
}
