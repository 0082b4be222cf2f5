namespace OrleansGateway.EdgeHost.Draining;

/// <summary>
/// Drains on host shutdown (SIGTERM). Registered after the Orleans client, so it stops first and the
/// client stays up until the last session is closed; Kestrel keeps serving (503 for upgrades) meanwhile.
/// </summary>
internal sealed class DrainOnShutdownService(EdgeDrainer drainer) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => drainer.DrainAsync().WaitAsync(cancellationToken);
}
