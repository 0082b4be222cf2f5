using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OrleansGateway.Hosting;

namespace OrleansGateway.Tests.Diagnostics;

/// <summary>With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a gateway host sends traces and metrics to it (an HTTP OTLP receiver on loopback).</summary>
[Collection(TracingListenersCollection.Name)]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task AddGatewayTelemetry_OtlpEndpointSet_TracesAndMetricsPostedToIt()
    {
        using var receiver = new OtlpReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint;
        builder.Configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        builder.AddGatewayTelemetry();
        await using var app = builder.Build();
        var tracer = app.Services.GetRequiredService<TracerProvider>();
        var meters = app.Services.GetRequiredService<MeterProvider>();

        using (var source = new ActivitySource("OrleansGateway.OtlpExportTests"))
        using (source.StartActivity("send"))
        {
        }

        // Not asserted on their results: the Prometheus reader beside OTLP reports false for a flush outside a scrape.
        tracer.ForceFlush(10_000);
        meters.ForceFlush(10_000);

        await receiver.WaitForAsync("/v1/traces");
        await receiver.WaitForAsync("/v1/metrics");
    }

    [Fact]
    public void IsTracingEnabled_ByDefault_OnlyWithAnOtlpEndpointUnlessConfigured()
    {
        static bool Enabled(params (string Key, string Value)[] settings)
        {
            var builder = WebApplication.CreateSlimBuilder();
            foreach (var (key, value) in settings)
            {
                builder.Configuration[key] = value;
            }

            return builder.Configuration.IsTracingEnabled();
        }

        Assert.True(Enabled(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")));
        Assert.False(Enabled(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"), ("Gateway:Telemetry:Tracing", "false")));
        Assert.True(Enabled(("Gateway:Telemetry:Tracing", "true")));
    }

    /// <summary>Accepts OTLP/HTTP posts on a free loopback port and records their paths (the bodies are not decoded).</summary>
    private sealed class OtlpReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<string> _paths = new();

        public OtlpReceiver()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Endpoint = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Endpoint + "/");
            _listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        public string Endpoint { get; }

        /// <summary>Waits (bounded) until a post to <paramref name="path"/> has been answered.</summary>
        public async Task WaitForAsync(string path)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (!_paths.Contains(path))
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        public void Dispose() => _listener.Close();

        private async Task AcceptAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return; // closed
                }

                await context.Request.InputStream.CopyToAsync(Stream.Null);
                _paths.Enqueue(context.Request.Url!.AbsolutePath);
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        }
    }
}
