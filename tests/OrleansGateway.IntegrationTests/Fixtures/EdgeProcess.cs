using System.Diagnostics;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>An edge running as its own OS process (the built EdgeHost), so a test can kill it with SIGKILL.</summary>
internal sealed class EdgeProcess : IDisposable
{
    private readonly Process _process;

    private EdgeProcess(Process process, Uri uri)
    {
        _process = process;
        Uri = uri;
    }

    public Uri Uri { get; }

    public static async Task<EdgeProcess> StartAsync(GatewayCluster cluster)
    {
        var port = GatewayCluster.FreeTcpPort();
        var dll = Path.Combine(AppContext.BaseDirectory, "OrleansGateway.EdgeHost.dll");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in cluster.ClientConfiguration().Concat(cluster.Tokens.AuthConfiguration()))
        {
            if (value is not null)
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the edge process");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var edge = new EdgeProcess(process, new Uri($"ws://127.0.0.1:{port}"));
        try
        {
            await GatewayCluster.WaitReadyAsync(edge.Uri, TimeSpan.FromSeconds(60));
        }
        catch
        {
            edge.Dispose();
            throw;
        }

        return edge;
    }

    /// <summary>SIGKILL: no drain, no detach, no lease release — a crash.</summary>
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
