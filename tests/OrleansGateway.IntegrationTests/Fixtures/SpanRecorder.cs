using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using OrleansGateway.Hosting;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// An OpenTelemetry tracer provider over the gateway's and Orleans' sources, with the product's sampler at ratio 1,
/// keeping every finished span. One per test fixture, not one per host: all hosts in the test process share the
/// activity sources, so per-host exporters would each see every span (and so does this one: filter by trace).
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly TracerProvider _tracer;

    public SpanRecorder() =>
        _tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(GatewayTracingExtensions.TracedSources)
            .SetSampler(new GatewaySampler(1.0))
            .AddProcessor(new KeepProcessor(_spans))
            .Build();

    /// <summary>Every span finished so far, in the order they ended.</summary>
    public IReadOnlyList<Activity> Spans => _spans.ToArray();

    /// <summary>The first finished span matching <paramref name="match"/>; spans end on other threads, so this polls.</summary>
    public async Task<Activity> WaitForSpanAsync(Func<Activity, bool> match, string what)
    {
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        while (true)
        {
            if (Spans.FirstOrDefault(match) is { } span)
            {
                return span;
            }

            if (timeout.IsCancellationRequested)
            {
                var seen = string.Join(", ", Spans.TakeLast(30).Select(s => $"{s.Source.Name}/{s.OperationName}"));
                throw new TimeoutException($"Timed out waiting for {what}; last spans: {seen}");
            }

            await Task.Delay(20);
        }
    }

    public void Dispose() => _tracer.Dispose();

    private sealed class KeepProcessor(ConcurrentQueue<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => spans.Enqueue(data);
    }
}
