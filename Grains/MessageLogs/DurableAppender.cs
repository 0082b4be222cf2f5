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

    /// <summary>Appends to <paramref name="log"/> and persists; throws <see cref="MessageLogStoreException"/> (not accepted) otherwise.</summary>
    public async Task<StreamMessage> AppendAsync(MessageLog log, string from, byte[] data, InboundPosition? inbound, InboundDeduplicator positions)
    {
        await SettleAsync(positions);
        var message = log.Append(from, data);
        StreamMessage? held;
        try
        {
            held = await store.AppendAsync(kind, key, message, retention.MaxMessages, retention.MaxAge, inbound);
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
    /// After a write with no known outcome, adopts what the store holds beyond memory (and the Kafka positions stored
    /// with it, so a redelivered record is recognised); a no-op otherwise. Throws while the store is unreachable.
    /// </summary>
    public async Task SettleAsync(InboundDeduplicator positions)
    {
        if (_unsettled is not { } log)
        {
            return;
        }

        var stored = await store.LoadAsync(kind, key);
        foreach (var message in stored.Log?.Messages ?? [])
        {
            if (message.Seq > log.Seq)
            {
                log.Adopt(message);
            }
        }

        positions.Merge(stored.InboundPositions);
        _unsettled = null;
    }

    private static bool SameMessage(StreamMessage a, StreamMessage b) =>
        a.Seq == b.Seq && a.AcceptedAtUnixMs == b.AcceptedAtUnixMs && a.From == b.From && a.Data.AsSpan().SequenceEqual(b.Data);
}
