namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>An edge running as its own OS process (the built EdgeHost), so a test can kill it with SIGKILL.</summary>
internal sealed class EdgeProcess : IDisposable
{
    private readonly GatewayProcess _process;

    private EdgeProcess(GatewayProcess process, Uri uri)
    {
        _process = process;
        Uri = uri;
    }

    public Uri Uri { get; }

    public static async Task<EdgeProcess> StartAsync(GatewayCluster cluster)
    {
        var port = GatewayCluster.FreeTcpPort();
        var process = await GatewayProcess.StartAsync("OrleansGateway.EdgeHost.dll", port, cluster.ClientConfiguration().Concat(cluster.Tokens.AuthConfiguration()));
        return new EdgeProcess(process, new Uri($"ws://127.0.0.1:{port}"));
    }

    /// <summary>SIGKILL: no drain, no detach, no lease release.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}
