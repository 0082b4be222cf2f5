namespace OrleansGateway.EdgeHost.Draining;

/// <summary>
/// Drains on host shutdown (SIGTERM), in <see cref="StoppingAsync"/>: the host calls it before it stops any hosted
/// service, so Kestrel still serves (readiness 503, upgrades refused with 503) and the Orleans client and the lease
/// stay up until the last session is closed.
/// </summary>
/// <remarks>
/// Not in <see cref="StopAsync"/>: <c>WebApplication</c> registers the server's hosted service last, so it stops
/// first, and Kestrel's stop waits for the open WebSocket requests to end. A drain that began after it would find
/// nothing listening and every session still open: they were cut off at the shutdown timeout with no <c>bye</c>.
/// </remarks>
internal sealed class DrainOnShutdownService(EdgeDrainer drainer) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => drainer.DrainAsync().WaitAsync(cancellationToken);

    /// <summary>The drain began in <see cref="StoppingAsync"/>; this only joins it (idempotent).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => drainer.DrainAsync().WaitAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
