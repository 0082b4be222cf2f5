namespace OrleansGateway.Grains.Edges;

/// <summary>
/// Remembers, per source (Kafka topic/partition), the highest position a grain accepted, so an at-least-once
/// redelivery after a crash or rebalance is dropped instead of appended again under a new seq/off.
/// Records of one key always come from one partition in order, so a high-water mark suffices.
/// </summary>
internal sealed class InboundDeduplicator
{
    private Dictionary<string, long> _positions = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="message"/> is new; records it as accepted.</summary>
    public bool TryAccept(InboundMessage message)
    {
        if (message.Source is not { } source)
        {
            return true;
        }

        if (_positions.TryGetValue(source, out var highest) && message.Position <= highest)
        {
            return false;
        }

        _positions[source] = message.Position;
        return true;
    }

    public Dictionary<string, long> ToSnapshot() => new(_positions, StringComparer.Ordinal);

    public void Restore(Dictionary<string, long> snapshot) => _positions = new(snapshot, StringComparer.Ordinal);
}
