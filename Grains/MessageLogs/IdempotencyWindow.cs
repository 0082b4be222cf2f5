namespace OrleansGateway.Grains.MessageLogs;

/// <summary>
/// The idempotency keys a grain accepted: per (sender, key) the position it was given and the hash of its data, so a
/// repeat is answered with that position instead of being appended again. Bounded like retention: the newest
/// <c>maxKeys</c> keys, none older than <c>maxAge</c>. Pure data structure (time from <see cref="TimeProvider"/>).
/// </summary>
/// <remarks>
/// Nothing is allocated until the first key: most grains never see one, and a silo holds hundreds of thousands of
/// idle grains (the cost per retained key is measured in docs/reliability.md).
/// </remarks>
internal sealed class IdempotencyWindow(int maxKeys, TimeSpan maxAge, TimeProvider time)
{
    private Dictionary<WindowKey, WindowEntry>? _entries;

    // Keys in acceptance order, oldest first: what leaves the window first.
    private Queue<WindowKey>? _order;

    public int Count => _entries?.Count ?? 0;

    /// <summary>
    /// The position <paramref name="key"/> from <paramref name="from"/> was accepted under, or null when it is not in
    /// the window (new, or accepted so long ago that it left it).
    /// </summary>
    /// <exception cref="IdempotencyKeyReusedException">The key was accepted with data of another hash.</exception>
    public long? Find(string from, string key, ulong hash)
    {
        Trim();
        if (_entries is null || !_entries.TryGetValue(new WindowKey(from, key), out var entry))
        {
            return null;
        }

        if (entry.Hash != hash)
        {
            throw new IdempotencyKeyReusedException($"the key '{key}' was already used by '{from}' with other data");
        }

        return entry.Position;
    }

    /// <summary>Records a key accepted at <paramref name="acceptedAtUnixMs"/> under <paramref name="position"/>.</summary>
    public void Add(string from, string key, ulong hash, long position, long acceptedAtUnixMs)
    {
        var windowKey = new WindowKey(from, key);
        _entries ??= new Dictionary<WindowKey, WindowEntry>();
        _order ??= new Queue<WindowKey>();
        if (_entries.TryAdd(windowKey, new WindowEntry(position, hash, acceptedAtUnixMs)))
        {
            _order.Enqueue(windowKey);
        }

        Trim();
    }

    public IdempotencyKeyRecord[] ToSnapshot()
    {
        Trim();
        if (_entries is null)
        {
            return [];
        }

        var records = new IdempotencyKeyRecord[_entries.Count];
        var i = 0;
        foreach (var key in _order!)
        {
            var entry = _entries[key];
            records[i++] = new IdempotencyKeyRecord(key.From, key.Key, entry.Hash, entry.Position, entry.AcceptedAtUnixMs);
        }

        return records;
    }

    /// <summary>Adds migrated or reloaded keys, oldest first.</summary>
    public void Restore(IEnumerable<IdempotencyKeyRecord> records)
    {
        foreach (var record in records)
        {
            Add(record.From, record.Key, record.Hash, record.Position, record.AcceptedAtUnixMs);
        }
    }

    private void Trim()
    {
        if (_entries is null)
        {
            return;
        }

        while (_entries.Count > maxKeys)
        {
            _entries.Remove(_order!.Dequeue());
        }

        var cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)maxAge.TotalMilliseconds;
        while (_order!.TryPeek(out var oldest) && _entries[oldest].AcceptedAtUnixMs < cutoff)
        {
            _entries.Remove(_order.Dequeue());
        }

        if (_entries.Count == 0)
        {
            // A grain whose keys all left the window goes back to costing nothing for them.
            _entries = null;
            _order = null;
        }
    }

    private readonly record struct WindowKey(string From, string Key);

    private readonly record struct WindowEntry(long Position, ulong Hash, long AcceptedAtUnixMs);
}

/// <summary>One accepted idempotency key, as carried by migration and persisted beside the message it was given.</summary>
[GenerateSerializer, Immutable, Alias("ogw.IdempotencyKeyRecord")]
internal sealed record IdempotencyKeyRecord(
    [property: Id(0)] string From,
    [property: Id(1)] string Key,
    [property: Id(2)] ulong Hash,
    [property: Id(3)] long Position,
    [property: Id(4)] long AcceptedAtUnixMs);
