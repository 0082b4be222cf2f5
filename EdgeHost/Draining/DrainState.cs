namespace OrleansGateway.EdgeHost.Draining;

/// <summary>Whether this edge is draining: readiness turns unhealthy and upgrades are refused with 503.</summary>
internal sealed class DrainState
{
    private int _draining;

    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    /// <summary>Marks the edge draining; true only for the first caller (drain is idempotent).</summary>
    public bool TryBegin() => Interlocked.Exchange(ref _draining, 1) == 0;
}
