using System.Diagnostics;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>A silo running as its own OS process (the built Silo host), so a test can kill it with SIGKILL.</summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly Process _process;

    private SiloProcess(Process process, int siloPort)
    {
        _process = process;
        SiloPort = siloPort;
    }

    public int SiloPort { get; }

    public static async Task<SiloProcess> StartAsync(GatewayCluster cluster, IDictionary<string, string?> settings)
    {
        var http = GatewayCluster.FreeTcpPort();
        var siloPort = GatewayCluster.FreeTcpPort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "OrleansGateway.Silo.dll")])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{http}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Gateway__Cluster__SiloPort"] = siloPort.ToString();
        start.Environment["Gateway__Cluster__GatewayPort"] = GatewayCluster.FreeTcpPort().ToString();
        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the silo process");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var silo = new SiloProcess(process, siloPort);
        try
        {
            await GatewayCluster.WaitReadyAsync(new Uri($"http://127.0.0.1:{http}"), TimeSpan.FromSeconds(60));
        }
        catch
        {
            silo.Dispose();
            throw;
        }

        return silo;
    }

    /// <summary>SIGKILL: no migration, no goodbye to the cluster — a crash.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }
}
