using OrleansGateway.Grains.Edges;

namespace OrleansGateway.Grains.MessageLogs;

/// <summary>
/// A grain's appends to its durable store, which must never give one seq to two messages. A write that
/// failed may still have been stored (Redis ran it, the connection reset before the reply): it is not acknowledged and
/// its seq is taken back in memory, but before the next seq is assigned the store is read back and what it holds
/// beyond memory is adopted, with its Kafka positions. Should anything still race (a timed-out write landing late), the
/// store's conditional append refuses a seq it already holds.
/// </summary>
internal sealed class DurableAppender(IMessageLogStore store, string kind, string key, RetentionOptions retention)
{
    // The log whose last write has no known outcome; null while memory and store agree. A grain has one log, replaced
    // only while it activates (before any append), so holding it here is safe.
    private MessageLog? _unsettled;

    public Task<StoredLog> LoadAsync() => store.LoadAsync(kind, key);

    /// <summary>
    /// Appends to <paramref name="log"/> and persists, with the idempotency key it is accepted under (its position is
    /// the new seq); throws <see cref="MessageLogStoreException"/> (not accepted) otherwise.
    /// </summary>
    public async Task<StreamMessage> AppendAsync(MessageLog log, string from, byte[] data, InboundPosition? inbound, PendingKey? idempotencyKey, ISettleTarget settled)
    {
        await SettleAsync(settled);
        var message = log.Append(from, data);
        var keyRecord = idempotencyKey is { } k ? new IdempotencyKeyRecord(from, k.Key, k.Hash, message.Seq, message.AcceptedAtUnixMs) : null;
        StreamMessage? held;
        try
        {
            held = await store.AppendAsync(kind, key, message, retention.MaxMessages, retention.MaxAge, inbound, keyRecord);
        }
        catch (MessageLogStoreException)
        {
            log.RemoveLast(message);
            _unsettled = log;
            throw;
        }

        if (held is not null && !SameMessage(held, message))
        {
            // The store is ahead of memory (a write of ours landed after we read it back): read it back again.
            log.RemoveLast(message);
            _unsettled = log;
            throw new MessageLogStoreException($"persisting seq {message.Seq} to {kind} {key} refused: the store holds another message under it");
        }

        return message;
    }

    /// <summary>
    /// After a write with no known outcome, adopts what the store holds beyond memory (and the Kafka positions and
    /// idempotency keys stored with it, so a redelivered record or a retried key is recognised), handing each adopted
    /// message to <see cref="Settled.Adopted"/> (it was never pushed); a no-op otherwise. Throws while the store is unreachable.
    /// </summary>
    public async Task SettleAsync(ISettleTarget settled)
    {
        if (_unsettled is not { } log)
        {
            return;
        }

        var stored = await store.LoadAsync(kind, key);
        var known = log.Seq;
        foreach (var message in stored.Log?.Messages ?? [])
        {
            if (message.Seq > log.Seq)
            {
                log.Adopt(message);
                settled.Adopted(message);
            }
        }

        if (stored.InboundPositions.Count > 0)
        {
            settled.Positions.Merge(stored.InboundPositions);
        }
        foreach (var record in stored.Keys)
        {
            if (record.Position > known)
            {
                settled.Keys.Add(record.From, record.Key, record.Hash, record.Position, record.AcceptedAtUnixMs);
            }
        }

        _unsettled = null;
    }

    private static bool SameMessage(StreamMessage a, StreamMessage b) =>
        a.Seq == b.Seq && a.AcceptedAtUnixMs == b.AcceptedAtUnixMs && a.From == b.From && a.Data.AsSpan().SequenceEqual(b.Data);
}

/// <summary>An idempotency key to persist with the message it is accepted with.</summary>
internal readonly record struct PendingKey(string Key, ulong Hash);

/// <summary>
/// Where <see cref="DurableAppender.SettleAsync"/> puts what it adopts: the grain's inbound positions, its idempotency
/// window, and the messages to push. The grain itself: an interface, not delegates, so an append allocates nothing for it.
/// </summary>
internal interface ISettleTarget
{
    InboundDeduplicator Positions { get; }

    /// <summary>The grain's idempotency window, created on first use.</summary>
    IdempotencyWindow Keys { get; }

    /// <summary>A message the store held beyond memory: taken into the log, never pushed yet.</summary>
    void Adopted(StreamMessage message);
}
