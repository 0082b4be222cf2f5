using Microsoft.Extensions.Options;

namespace OrleansGateway.Grains.MessageLogs;

/// <summary>How much of a message log (client mailbox or channel history) is kept for resume and recovery.</summary>
public abstract class RetentionOptions
{
    /// <summary>Default for <see cref="MaxMessages"/>: 1,000 (docs/protocol.md, Guarantees §2).</summary>
    public const int DefaultMaxMessages = 1_000;

    /// <summary>Default for <see cref="MaxAge"/>: 5 minutes (docs/protocol.md, Guarantees §2).</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromMinutes(5);

    /// <summary>Default for <see cref="IdempotencyKeys"/>: 1,000, as <see cref="DefaultMaxMessages"/> (docs/protocol.md, "Idempotency keys").</summary>
    public const int DefaultIdempotencyKeys = 1_000;

    /// <summary>Default for <see cref="IdempotencyWindow"/>: 5 minutes, as <see cref="DefaultMaxAge"/>.</summary>
    public static readonly TimeSpan DefaultIdempotencyWindow = TimeSpan.FromMinutes(5);

    /// <summary>Default for <see cref="SessionSweepInterval"/>: 1 minute.</summary>
    public static readonly TimeSpan DefaultSessionSweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>Most messages retained.</summary>
    public int MaxMessages { get; set; } = DefaultMaxMessages;

    /// <summary>Oldest message retained.</summary>
    public TimeSpan MaxAge { get; set; } = DefaultMaxAge;

    /// <summary>
    /// Most idempotency keys remembered per grain (mailbox or channel): a repeat of an older key is accepted again.
    /// With durability <c>Redis</c>, what survives a silo crash is further bounded by the retained messages.
    /// </summary>
    public int IdempotencyKeys { get; set; } = DefaultIdempotencyKeys;

    /// <summary>How long an accepted idempotency key is remembered: a repeat after it is accepted again.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = DefaultIdempotencyWindow;

    /// <summary>
    /// How often a grain with attached edges looks for edges whose lease lapsed, when no traffic made it look
    /// sooner. Frees the memory of clients and channels whose edges crashed.
    /// </summary>
    public TimeSpan SessionSweepInterval { get; set; } = DefaultSessionSweepInterval;
}

/// <summary>Client mailbox retention and durability. Section <c>Gateway:Mailbox</c>.</summary>
public sealed class MailboxOptions : RetentionOptions
{
    public const string SectionName = "Gateway:Mailbox";

    /// <summary>
    /// <see cref="MailboxDurability.Memory"/> (default) or <see cref="MailboxDurability.Redis"/>; applies to client
    /// mailboxes and channel histories alike.
    /// </summary>
    public MailboxDurability Durability { get; set; } = MailboxDurability.Memory;

    /// <summary>Redis for <see cref="MailboxDurability.Redis"/>; defaults to the clustering Redis (<c>Gateway:Cluster:Redis</c>). Never logged.</summary>
    public string? Redis { get; set; }
}

/// <summary>Channel history retention. Section <c>Gateway:Channel</c>.</summary>
public sealed class ChannelOptions : RetentionOptions
{
    public const string SectionName = "Gateway:Channel";
}

internal sealed class RetentionOptionsValidator<T>(string sectionName) : IValidateOptions<T>
    where T : RetentionOptions
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var failures = new List<string>();
        if (options.MaxMessages is < 1 or > 1_000_000)
        {
            failures.Add($"{sectionName}:MaxMessages must be between 1 and 1,000,000 (was {options.MaxMessages}).");
        }

        if (options.MaxAge <= TimeSpan.Zero)
        {
            failures.Add($"{sectionName}:MaxAge must be positive (was {options.MaxAge}).");
        }

        if (options.IdempotencyKeys is < 1 or > 1_000_000)
        {
            failures.Add($"{sectionName}:IdempotencyKeys must be between 1 and 1,000,000 (was {options.IdempotencyKeys}).");
        }

        if (options.IdempotencyWindow <= TimeSpan.Zero)
        {
            failures.Add($"{sectionName}:IdempotencyWindow must be positive (was {options.IdempotencyWindow}).");
        }

        if (options.SessionSweepInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{sectionName}:SessionSweepInterval must be at least 1 second (was {options.SessionSweepInterval}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
