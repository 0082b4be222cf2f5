namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// A small fixed-size cache of grain references by key (direct-mapped: one slot per key hash, a miss replaces the
/// slot). Building a reference per frame cost an id encoding, a hash and a proxy object per message; senders
/// mostly write to the same recipients again. Bounded memory whatever the number of keys, no locks: a slot holds an
/// immutable entry that is read and replaced atomically, and a lost race only builds one reference twice.
/// </summary>
internal sealed class ReferenceCache<T>
    where T : class
{
    private readonly Entry?[] _slots;
    private readonly Func<string, T> _create;

    public ReferenceCache(int slots, Func<string, T> create)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _slots = new Entry?[(int)Math.Min(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)slots), 1u << 30)];
        _create = create;
    }

    /// <summary>Number of slots (a power of two): the most references held at once.</summary>
    public int Slots => _slots.Length;

    /// <summary>The reference for <paramref name="key"/>, built with the factory on a miss.</summary>
    public T Get(string key)
    {
        ref var slot = ref _slots[key.GetHashCode() & (_slots.Length - 1)];
        var entry = Volatile.Read(ref slot);
        if (entry is not null && string.Equals(entry.Key, key, StringComparison.Ordinal))
        {
            return entry.Value;
        }

        var value = _create(key);
        Volatile.Write(ref slot, new Entry(key, value));
        return value;
    }

    private sealed record Entry(string Key, T Value);
}
