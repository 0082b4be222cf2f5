namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>A silo running as its own OS process (the built Silo host), so a test can kill it with SIGKILL.</summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly GatewayProcess _process;

    private SiloProcess(GatewayProcess process, int siloPort)
    {
        _process = process;
        SiloPort = siloPort;
    }

    public int SiloPort { get; }

    public static async Task<SiloProcess> StartAsync(GatewayCluster cluster, IDictionary<string, string?> settings)
    {
        var siloPort = GatewayCluster.FreeTcpPort();
        var ports = new Dictionary<string, string?>
        {
            ["Gateway:Cluster:SiloPort"] = siloPort.ToString(),
            ["Gateway:Cluster:GatewayPort"] = GatewayCluster.FreeTcpPort().ToString(),
        };
        var process = await GatewayProcess.StartAsync("OrleansGateway.Silo.dll", GatewayCluster.FreeTcpPort(), settings.Concat(ports));
        return new SiloProcess(process, siloPort);
    }

    /// <summary>SIGKILL: no migration, no goodbye to the cluster.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}
