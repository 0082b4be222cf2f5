namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>A silo running as its own OS process (the built Silo host, with its HTTP endpoints), so a test can kill it with SIGKILL or SIGTERM.</summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly GatewayProcess _process;

    private SiloProcess(GatewayProcess process, int siloPort, Uri http)
    {
        _process = process;
        SiloPort = siloPort;
        Http = http;
    }

    public int SiloPort { get; }

    /// <summary>The silo's HTTP address: <c>/health/live</c>, <c>/health/ready</c>, <c>/metrics</c>.</summary>
    public Uri Http { get; }

    /// <summary>Starts the silo and waits until <c>/health/ready</c> answers 200.</summary>
    public static async Task<SiloProcess> StartAsync(GatewayCluster cluster, IDictionary<string, string?> settings)
    {
        var siloPort = GatewayCluster.FreeTcpPort();
        var httpPort = GatewayCluster.FreeTcpPort();
        var ports = new Dictionary<string, string?>
        {
            ["Gateway:Cluster:SiloPort"] = siloPort.ToString(),
            ["Gateway:Cluster:GatewayPort"] = GatewayCluster.FreeTcpPort().ToString(),
        };
        var process = await GatewayProcess.StartAsync("OrleansGateway.Silo.dll", httpPort, settings.Concat(ports));
        return new SiloProcess(process, siloPort, new Uri($"http://127.0.0.1:{httpPort}"));
    }

    /// <summary>SIGKILL: no migration, no goodbye to the cluster.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM, then waits for the exit: the silo migrates its grains and leaves the cluster.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _process.Terminate();
        if (!await _process.WaitForExitAsync(timeout))
        {
            throw new TimeoutException($"the silo on port {SiloPort} did not exit within {timeout} of SIGTERM");
        }
    }

    public void Dispose() => _process.Dispose();
}
