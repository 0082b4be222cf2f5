namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>An edge running as its own OS process (the built EdgeHost), so a test can kill it with SIGKILL or SIGTERM.</summary>
internal sealed class EdgeProcess : IDisposable
{
    private readonly GatewayProcess _process;

    private EdgeProcess(GatewayProcess process, Uri uri)
    {
        _process = process;
        Uri = uri;
    }

    public Uri Uri { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the edge; <paramref name="overrides"/> adjust its configuration (e.g. drain pacing).</summary>
    public static async Task<EdgeProcess> StartAsync(GatewayCluster cluster, IDictionary<string, string?>? overrides = null)
    {
        var port = GatewayCluster.FreeTcpPort();
        var settings = cluster.ClientConfiguration().Concat(cluster.Tokens.AuthConfiguration()).Concat(overrides ?? new Dictionary<string, string?>());
        var process = await GatewayProcess.StartAsync("OrleansGateway.EdgeHost.dll", port, settings);
        return new EdgeProcess(process, new Uri($"ws://127.0.0.1:{port}"));
    }

    /// <summary>SIGKILL: no drain, no detach, no lease release.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM: the edge drains, then exits.</summary>
    public void Terminate() => _process.Terminate();

    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    public void Dispose() => _process.Dispose();
}
