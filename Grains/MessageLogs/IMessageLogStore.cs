namespace OrleansGateway.Grains.MessageLogs;

/// <summary>Where mailboxes and channel histories survive a silo crash (durability <c>Redis</c>).</summary>
internal interface IMessageLogStore
{
    /// <summary>The persisted log of <paramref name="kind"/>/<paramref name="key"/> and its inbound positions.</summary>
    Task<StoredLog> LoadAsync(string kind, string key);

    /// <summary>
    /// Persists one accepted message, keeping the newest <paramref name="maxMessages"/>, together with the Kafka
    /// position it came from (if any) so a redelivery after a crash is still recognised, and with the idempotency key it
    /// was accepted under (if any), in the same atomic write, so a repeat after a crash is still recognised; completes when durable.
    /// Conditional: a seq the log already holds is refused, never stored twice.
    /// </summary>
    /// <returns>
    /// Null when appended; when refused, the message the log holds under that seq (the same one when an earlier
    /// attempt whose reply was lost had stored it), or its newest message if that seq left retention.
    /// </returns>
    Task<StreamMessage?> AppendAsync(
        string kind, string key, StreamMessage message, int maxMessages, TimeSpan maxAge, InboundPosition? inbound = null, IdempotencyKeyRecord? idempotencyKey = null);
}

/// <summary>Where a backend message came from: Kafka topic/partition and offset.</summary>
internal readonly record struct InboundPosition(string Source, long Position);

/// <summary>What the store holds for one log: the messages (null when none) and the highest inbound position per source.</summary>
internal sealed record StoredLog(MessageLogSnapshot? Log, IReadOnlyDictionary<string, long> InboundPositions)
{
    /// <summary>The idempotency keys stored with retained messages, oldest first.</summary>
    public IReadOnlyList<IdempotencyKeyRecord> Keys { get; init; } = [];
}

/// <summary>How mailboxes and channel histories are kept. Key <c>Gateway:Mailbox:Durability</c>.</summary>
public enum MailboxDurability
{
    /// <summary>In silo memory: survives graceful migration, lost on a silo crash. The default.</summary>
    Memory,

    /// <summary>Each accepted message is written to Redis before it is acknowledged, and reloaded on activation.</summary>
    Redis,
}
