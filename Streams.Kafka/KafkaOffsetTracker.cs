namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// Offsets of one partition that were read and not yet settled (delivered, skipped as invalid, or given up), in read order.
/// <see cref="CommittableOffset"/> is the next offset to read after the longest settled prefix: committing it never
/// skips an unsettled record. Thread-safe; pure (no Kafka, no Orleans), unit-tested.
/// </summary>
internal sealed class KafkaOffsetTracker
{
    private readonly Lock _lock = new();
    private readonly Queue<long> _read = new();
    private readonly HashSet<long> _settled = [];
    private long _lastRead = -1;
    private long _committable = -1;

    /// <summary>Records read and not yet part of the settled prefix.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _read.Count;
            }
        }
    }

    /// <summary>The offset to commit (the next one to read), or -1 when nothing has been settled yet.</summary>
    public long CommittableOffset
    {
        get
        {
            lock (_lock)
            {
                return _committable;
            }
        }
    }

    /// <summary>Adds a record just read; offsets must increase. <paramref name="settled"/> for a record that is skipped.</summary>
    public void Read(long offset, bool settled = false)
    {
        lock (_lock)
        {
            if (offset <= _lastRead)
            {
                throw new InvalidOperationException($"Offsets must increase: read {offset} after {_lastRead}.");
            }

            _lastRead = offset;
            _read.Enqueue(offset);
            if (settled)
            {
                _settled.Add(offset);
            }

            Advance();
        }
    }

    /// <summary>Marks a read record as settled. Unknown offsets (e.g. from before a restart) are ignored.</summary>
    /// <returns>True when the committable offset moved.</returns>
    public bool Settle(long offset)
    {
        lock (_lock)
        {
            if (_read.Count == 0 || offset < _read.Peek() || offset > _lastRead)
            {
                return false;
            }

            _settled.Add(offset);
            var before = _committable;
            Advance();
            return _committable != before;
        }
    }

    private void Advance()
    {
        while (_read.Count > 0 && _settled.Remove(_read.Peek()))
        {
            _committable = _read.Dequeue() + 1;
        }
    }
}
