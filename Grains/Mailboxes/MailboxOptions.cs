namespace OrleansGateway.Grains.Mailboxes;

/// <summary>How much of a client's mailbox is kept for resume. Section <c>Gateway:Mailbox</c>.</summary>
public sealed class MailboxOptions
{
    public const string SectionName = "Gateway:Mailbox";

    /// <summary>Default for <see cref="MaxMessages"/>: 1,000 (PROTOCOL.md, Guarantees §2).</summary>
    public const int DefaultMaxMessages = 1_000;

    /// <summary>Default for <see cref="MaxAge"/>: 5 minutes (PROTOCOL.md, Guarantees §2).</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromMinutes(5);

    /// <summary>Default for <see cref="SessionSweepInterval"/>: 1 minute.</summary>
    public static readonly TimeSpan DefaultSessionSweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>Most messages retained per mailbox.</summary>
    public int MaxMessages { get; set; } = DefaultMaxMessages;

    /// <summary>Oldest message retained per mailbox.</summary>
    public TimeSpan MaxAge { get; set; } = DefaultMaxAge;

    /// <summary>
    /// How often a grain with attached sessions looks for sessions of edges whose lease lapsed, when no traffic
    /// made it look sooner. Frees the memory of clients that never came back after an edge crash.
    /// </summary>
    public TimeSpan SessionSweepInterval { get; set; } = DefaultSessionSweepInterval;
}

internal sealed class MailboxOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<MailboxOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, MailboxOptions options)
    {
        var failures = new List<string>();
        if (options.MaxMessages is < 1 or > 1_000_000)
        {
            failures.Add($"{MailboxOptions.SectionName}:MaxMessages must be between 1 and 1,000,000 (was {options.MaxMessages}).");
        }

        if (options.MaxAge <= TimeSpan.Zero)
        {
            failures.Add($"{MailboxOptions.SectionName}:MaxAge must be positive (was {options.MaxAge}).");
        }

        if (options.SessionSweepInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{MailboxOptions.SectionName}:SessionSweepInterval must be at least 1 second (was {options.SessionSweepInterval}).");
        }

        return failures.Count == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
