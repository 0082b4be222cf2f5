namespace OrleansGateway.Grains.Mailboxes;

/// <summary>Where mailboxes and channel histories survive a silo crash (durability <c>Redis</c>).</summary>
internal interface IMailboxStore
{
    /// <summary>The persisted log of <paramref name="kind"/>/<paramref name="key"/>, or null when there is none.</summary>
    Task<MailboxSnapshot?> LoadAsync(string kind, string key);

    /// <summary>Persists one accepted message, keeping the newest <paramref name="maxMessages"/>; completes when durable.</summary>
    Task AppendAsync(string kind, string key, MailboxMessage message, int maxMessages, TimeSpan maxAge);
}

/// <summary>How mailboxes and channel histories are kept. Key <c>Gateway:Mailbox:Durability</c>.</summary>
public enum MailboxDurability
{
    /// <summary>In silo memory: survives graceful migration, lost on a silo crash. The default.</summary>
    Memory,

    /// <summary>Each accepted message is written to Redis before it is acknowledged, and reloaded on activation.</summary>
    Redis,
}
