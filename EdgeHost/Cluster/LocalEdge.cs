using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>This edge process's identity in the cluster and whether its lease is currently held.</summary>
internal sealed class LocalEdge
{
    private IEdgeObserver? _reference;
    private volatile bool _held;

    /// <summary>Unique per process start: a restarted edge is a new edge, its old observer references are dead (#8770).</summary>
    public string EdgeId { get; } = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    /// <summary>True once the observer exists and the lease was renewed within its TTL.</summary>
    public bool IsHeld => _held;

    /// <summary>True once the observer reference exists.</summary>
    public bool HasReference => _reference is not null;

    public IEdgeObserver Reference => _reference ?? throw new InvalidOperationException("The edge observer is not registered yet.");

    internal void SetReference(IEdgeObserver reference) => _reference = reference;

    internal void SetHeld(bool held) => _held = held;
}
