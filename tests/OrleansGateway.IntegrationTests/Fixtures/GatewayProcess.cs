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
        var start = StartInfo(assembly, settings);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}";

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

    /// <summary>
    /// <c>dotnet &lt;assembly&gt; &lt;arguments&gt;</c> for a DLL next to the tests, its output redirected, configured by
    /// <paramref name="settings"/> as environment variables (<c>a:b</c> → <c>a__b</c>), logging Warning and above.
    /// </summary>
    public static ProcessStartInfo StartInfo(string assembly, IEnumerable<KeyValuePair<string, string?>> settings, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, assembly), .. arguments])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        return start;
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGTERM, as Kubernetes sends it: the host shuts down gracefully (an edge drains, a silo migrates its grains).</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("could not run kill");
        kill.WaitForExit(10_000);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} exited with {kill.ExitCode}");
        }
    }

    /// <summary>Waits for the process to exit; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return false;
        }
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
