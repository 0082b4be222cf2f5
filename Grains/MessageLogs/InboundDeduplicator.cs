namespace OrleansGateway.Grains.MessageLogs;

/// <summary>
/// Remembers, per source (Kafka topic/partition), the highest position a grain accepted, so an at-least-once
/// redelivery after a crash or rebalance is dropped instead of appended again under a new seq/off.
/// Records of one key always come from one partition in order, so a high-water mark suffices.
/// </summary>
internal sealed class InboundDeduplicator
{
    // Created with the first position: most grains never get a backend message, and an empty dictionary still costs
    // ~80 B per idle grain (measured, docs/benchmarks.md).
    private Dictionary<string, long>? _positions;

    /// <summary>True when <paramref name="message"/> was accepted before (a redelivery).</summary>
    public bool IsDuplicate(InboundMessage message) =>
        message.Source is { } source && _positions is not null && _positions.TryGetValue(source, out var highest) && message.Position <= highest;

    /// <summary>
    /// Records <paramref name="message"/> as accepted. Called only once the grain took it: a message whose append
    /// failed is redelivered and must then count as new.
    /// </summary>
    public void Accepted(InboundMessage message)
    {
        if (message.Source is { } source)
        {
            (_positions ??= new(StringComparer.Ordinal))[source] = message.Position;
        }
    }

    /// <summary>Adds positions loaded from the durable store, keeping the higher of each.</summary>
    public void Merge(IReadOnlyDictionary<string, long> positions)
    {
        foreach (var (source, position) in positions)
        {
            _positions ??= new(StringComparer.Ordinal);
            if (!_positions.TryGetValue(source, out var known) || position > known)
            {
                _positions[source] = position;
            }
        }
    }

    public Dictionary<string, long> ToSnapshot() =>
        _positions is null ? new(StringComparer.Ordinal) : new(_positions, StringComparer.Ordinal);

    public void Restore(Dictionary<string, long> snapshot) =>
        _positions = snapshot.Count == 0 ? null : new(snapshot, StringComparer.Ordinal);
}
