using System.Diagnostics;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>A built gateway host (edge or silo) running as its own OS process, so a test can kill it with SIGKILL.</summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process) => _process = process;

    /// <summary>Starts <paramref name="assembly"/> (a DLL next to the tests) on <paramref name="httpPort"/> and waits for <c>/health/ready</c>.</summary>
    public static async Task<GatewayProcess> StartAsync(string assembly, int httpPort, IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, assembly)])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {assembly}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = new GatewayProcess(process);
        try
        {
            await GatewayCluster.WaitReadyAsync(new Uri($"http://127.0.0.1:{httpPort}"), TimeSpan.FromSeconds(60));
        }
        catch
        {
            started.Dispose();
            throw;
        }

        return started;
    }

    /// <summary>SIGKILL: no drain, no migration, no goodbye — a crash.</summary>
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
