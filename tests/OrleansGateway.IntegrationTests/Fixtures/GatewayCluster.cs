using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansGateway.EdgeHost.Hosting;
using OrleansGateway.Grains.Hosting;
using OrleansGateway.Hosting;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>
/// A real gateway on loopback: Orleans silos (each its own host with TCP silo and gateway ports, the
/// production silo configuration, distributed grain directory), edges (real Kestrel on ephemeral ports,
/// Orleans clients), and an Orleans client playing a backend. Localhost clustering unless <see cref="Redis"/> is set.
/// </summary>
public class GatewayCluster : IAsyncLifetime
{
    /// <summary>Lease TTL used by every test cluster: short, so crash tests finish quickly.</summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long test edges wait for a grain call (then ask again, or answer <c>err unavailable</c>): shorter than the
    /// 5 s default so the tests that stall a call finish sooner, long enough for a cold, busy CI machine.
    /// </summary>
    public static readonly TimeSpan EdgeCallTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Mailbox retention used by test clusters (messages).</summary>
    public const int RetainedMessages = 100;

    private readonly List<SiloHandle> _silos = [];
    private readonly List<WebApplication> _edges = [];
    private IHost? _backend;

    public GatewayCluster() : this(silos: 2, edges: 2)
    {
    }

    protected GatewayCluster(int silos, int edges)
    {
        InitialSilos = silos;
        InitialEdges = edges;
    }

    public TestTokens Tokens { get; } = new();

    public string ClusterId { get; } = $"test-{Guid.NewGuid():N}"[..16];

    /// <summary>Redis configuration string for Redis clustering; null = localhost clustering.</summary>
    public string? Redis { get; protected set; }

    public IReadOnlyList<Uri> Edges => _edges.Select(EdgeUri).ToList();

    public IReadOnlyList<SiloHandle> Silos => _silos;

    /// <summary>The cluster identity (lease key) of the edge at <paramref name="edge"/>.</summary>
    public string EdgeId(Uri edge) => _edges.Single(e => EdgeUri(e) == edge).Services.GetRequiredService<OrleansGateway.EdgeHost.Cluster.LocalEdge>().EdgeId;

    /// <summary>Set by tracing fixtures: tracing is on in every host and their spans are recorded here; null otherwise.</summary>
    public SpanRecorder? Recorder { get; protected init; }

    /// <summary>An Orleans client, like a .NET backend would have.</summary>
    public IClusterClient Backend => _backend!.Services.GetRequiredService<IClusterClient>();

    protected int InitialSilos { get; }

    protected int InitialEdges { get; }

    public virtual async Task InitializeAsync()
    {
        for (var i = 0; i < InitialSilos; i++)
        {
            await StartSiloAsync();
        }

        for (var i = 0; i < InitialEdges; i++)
        {
            await StartEdgeAsync();
        }

        var backend = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        backend.Configuration.AddInMemoryCollection(ClientConfiguration());
        backend.UseOrleansClient(c => c.AddGatewayClient(backend.Configuration));
        _backend = backend.Build();
        await _backend.StartAsync();
    }

    public async Task<SiloHandle> StartSiloAsync()
    {
        var siloPort = FreeTcpPort();
        var gatewayPort = FreeTcpPort();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(CommonConfiguration());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Cluster:SiloPort"] = siloPort.ToString(),
            ["Gateway:Cluster:GatewayPort"] = gatewayPort.ToString(),
            ["Gateway:Cluster:PrimarySiloPort"] = (_silos.Count > 0 ? _silos[0].SiloPort : siloPort).ToString(),
            ["Gateway:Mailbox:MaxMessages"] = RetainedMessages.ToString(),
            ["Gateway:Mailbox:SessionSweepInterval"] = "00:00:02",
            ["Gateway:Channel:MaxMessages"] = RetainedMessages.ToString(),
            ["Gateway:Channel:SessionSweepInterval"] = "00:00:02",
        });
        builder.Logging.AddFilter(level => level >= LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            silo.AddGatewaySilo(builder.Configuration).AddGatewayGrains(builder.Configuration);
            silo.AddOutgoingGrainCallFilter<PushDropFilter>();
            silo.AddOutgoingGrainCallFilter<CallStallFilter>();
            silo.AddIncomingGrainCallFilter<CallStallFilter>();
            ConfigureSilo(silo, builder.Configuration);
        });
        var host = builder.Build();
        await host.StartAsync();
        var handle = new SiloHandle(host, siloPort, gatewayPort);
        _silos.Add(handle);
        return handle;
    }

    /// <summary>
    /// Stops <paramref name="silo"/> when disposed unless the test already did: a test that starts a silo owns it and
    /// leaves the shared cluster as it found it, whether it passes or fails (the next test counts the silos).
    /// </summary>
    public IAsyncDisposable Owned(SiloHandle silo) => new SiloOwnership(this, silo);

    /// <summary>Stops a silo gracefully: its grains migrate with their state.</summary>
    public async Task StopSiloAsync(SiloHandle silo)
    {
        _silos.Remove(silo);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await silo.Host.StopAsync(cts.Token);
        silo.Host.Dispose();
    }

    /// <summary>Starts an edge; <paramref name="overrides"/> adjust its configuration (e.g. a small connection cap).</summary>
    public async Task<Uri> StartEdgeAsync(IDictionary<string, string?>? overrides = null)
    {
        var app = BuildEdge(overrides);
        await app.StartAsync();
        _edges.Add(app);
        var uri = EdgeUri(app);
        await WaitReadyAsync(uri);
        return uri;
    }

    /// <summary>Stops an edge abruptly: its sockets and its cluster connection drop without a drain.</summary>
    public async Task KillEdgeAsync(Uri edge)
    {
        var app = _edges.Single(e => EdgeUri(e) == edge);
        _edges.Remove(app);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        try
        {
            await app.StopAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Expected: a cancelled stop is the abrupt path.
        }

        await app.DisposeAsync();
    }

    public IEnumerable<KeyValuePair<string, string?>> ClientConfiguration() =>
        CommonConfiguration().Concat(_silos.Select((s, i) => new KeyValuePair<string, string?>($"Gateway:Cluster:GatewayPorts:{i}", s.GatewayPort.ToString())));

    /// <summary>Settings for a silo process (<see cref="SiloProcess"/>) joining this cluster.</summary>
    public Dictionary<string, string?> SiloSettings() => CommonConfiguration()
        .Concat(
        [
            new("Gateway:Mailbox:MaxMessages", RetainedMessages.ToString()),
            new("Gateway:Channel:MaxMessages", RetainedMessages.ToString()),
            new("Gateway:Cluster:PrimarySiloPort", _silos[0].SiloPort.ToString()), // localhost clustering; ignored with Redis
        ])
        .ToDictionary(kv => kv.Key, kv => kv.Value);

    public static async Task WaitReadyAsync(Uri edge, TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        var ready = new UriBuilder(edge) { Path = "/health/ready" }.Uri;
        while (true)
        {
            try
            {
                if ((await http.GetAsync(ready)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Edge {edge} did not become ready.");
            }

            await Task.Delay(50);
        }
    }

    public virtual async Task DisposeAsync()
    {
        // Teardown, not a test: every host gets its own bounded stop, and one that fails to stop in time (a last
        // silo with thousands of grains left by the tests) must not keep the others running or fail the run.
        foreach (var edge in _edges)
        {
            await StopQuietlyAsync(edge.StopAsync);
            await edge.DisposeAsync();
        }

        if (_backend is not null)
        {
            await StopQuietlyAsync(_backend.StopAsync);
            _backend.Dispose();
        }

        foreach (var silo in Enumerable.Reverse(_silos))
        {
            await StopQuietlyAsync(silo.Host.StopAsync);
            silo.Host.Dispose();
        }

        Recorder?.Dispose();
    }

    private static async Task StopQuietlyAsync(Func<CancellationToken, Task> stop)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await stop(cts.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or AggregateException or OrleansException)
        {
            Console.Error.WriteLine($"teardown: a host did not stop cleanly: {ex.GetBaseException().Message}");
        }
    }

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Extra silo configuration for derived fixtures (e.g. the Kafka stream provider).</summary>
    protected virtual void ConfigureSilo(ISiloBuilder silo, IConfiguration configuration)
    {
    }

    protected virtual IEnumerable<KeyValuePair<string, string?>> CommonConfiguration() =>
    [
        new("Gateway:Cluster:ClusterId", ClusterId),
        new("Gateway:Cluster:ServiceId", "ogw-tests"),
        new("Gateway:Cluster:Redis", Redis),
        new("Gateway:Cluster:ClientDropTimeout", "00:00:05"),
        new("Gateway:Lease:Ttl", LeaseTtl.ToString()),
        new("Gateway:Telemetry:Tracing", Recorder is null ? null : "true"),
    ];

    private WebApplication BuildEdge(IDictionary<string, string?>? overrides)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Production",
            ApplicationName = typeof(EdgeHostingExtensions).Assembly.GetName().Name,
        });
        builder.Configuration.AddInMemoryCollection(ClientConfiguration());
        builder.Configuration.AddInMemoryCollection(Tokens.AuthConfiguration());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:EmbeddedSilo"] = "false",
            ["Gateway:Edge:AllowedOrigins:0"] = "https://app.example",
            ["Gateway:Edge:CloseTimeout"] = "00:00:05",
            ["Gateway:Edge:CallTimeout"] = EdgeCallTimeout.ToString(),
            ["Gateway:Auth:ClockSkew"] = "00:00:01",
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddConsole();
        builder.Logging.AddFilter(level => level >= LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddGatewayEdge();
        builder.Services.AddSingleton<IOutgoingGrainCallFilter, CallStallFilter>(); // the edge's Orleans client's calls
        var app = builder.Build();
        app.MapGatewayEndpoints();
        return app;
    }

    private static Uri EdgeUri(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal));
    }
}

public sealed record SiloHandle(IHost Host, int SiloPort, int GatewayPort);

internal sealed class SiloOwnership(GatewayCluster cluster, SiloHandle silo) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        if (cluster.Silos.Contains(silo))
        {
            await cluster.StopSiloAsync(silo);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayCluster>
{
    public const string Name = "gateway";
}
