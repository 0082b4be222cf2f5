using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>
/// The HTTP server API for backends (docs/server-api.md). Section <c>Gateway:ServerApi</c>. Off by default: it is
/// served on its own port (<see cref="Port"/>) so operators expose <c>/ws</c> to the internet and this port only inside
/// the cluster; setting <see cref="Port"/> to the public port shares it, knowingly.
/// </summary>
internal sealed class ServerApiOptions
{
    public const string SectionName = "Gateway:ServerApi";

    /// <summary>Default for <see cref="Port"/>: 8081.</summary>
    public const int DefaultPort = 8081;

    /// <summary>Default for <see cref="MaxBodyBytes"/>: 1 MiB.</summary>
    public const long DefaultMaxBodyBytes = 1024 * 1024;

    /// <summary>Default for <see cref="MaxBatchSize"/>: 1,000 entries.</summary>
    public const int DefaultMaxBatchSize = 1_000;

    /// <summary>Default for <see cref="MaxPageSize"/>: 1,000 (members, history, mailbox).</summary>
    public const int DefaultMaxPageSize = 1_000;

    /// <summary>Default for <see cref="RetryAfter"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>Keys shorter than this are refused at start: an API key is a bearer secret.</summary>
    public const int MinKeyLength = 16;

    public bool Enabled { get; set; }

    /// <summary>The port the API listens on, beside the edge's own URLs.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>The address to bind the API port on: <c>*</c> (all) by default, <c>127.0.0.1</c> for loopback only.</summary>
    public string Host { get; set; } = "*";

    /// <summary>Accepted keys (several at once for rotation). At least one when enabled.</summary>
    public List<ServerApiKey> Keys { get; set; } = [];

    /// <summary>Request bodies above this are answered <c>413</c>.</summary>
    public long MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    /// <summary>Entries per send or publish batch, at most.</summary>
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>Entries per page of channel members, history or mailbox, at most (a larger <c>limit</c> is capped).</summary>
    public int MaxPageSize { get; set; } = DefaultMaxPageSize;

    /// <summary>The <c>Retry-After</c> of a <c>503</c> (the cluster unreachable).</summary>
    public TimeSpan RetryAfter { get; set; } = DefaultRetryAfter;

    public override string ToString() =>
        $"Enabled={Enabled} Port={Port} Host={Host} Keys=[{string.Join(", ", Keys.Select(k => k.ToString()))}] MaxBodyBytes={MaxBodyBytes} MaxBatchSize={MaxBatchSize} MaxPageSize={MaxPageSize} RetryAfter={RetryAfter}";
}

/// <summary>One API key.</summary>
internal sealed class ServerApiKey
{
    /// <summary>Who holds it: shown in logs and used as the default <c>from</c> of its sends and publishes.</summary>
    public string Name { get; set; } = "";

    /// <summary>The secret (<c>Authorization: apikey &lt;key&gt;</c>); never logged.</summary>
    public string Key { get; set; } = "";

    /// <summary>Presence, history, mailbox and cluster info only: sends, publishes and disconnects are refused (403).</summary>
    public bool ReadOnly { get; set; }

    public override string ToString() => $"{Name} (key redacted{(ReadOnly ? ", read-only" : "")})";
}

internal sealed class ServerApiOptionsValidator : IValidateOptions<ServerApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerApiOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        Check(options.Port is >= 1 and <= 65535, $"Port must be between 1 and 65535 (was {options.Port})");
        Check(!string.IsNullOrWhiteSpace(options.Host), "Host must not be empty");
        Check(options.Keys.Count > 0, "at least one key is required when the API is enabled");
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i];
            Check(!string.IsNullOrWhiteSpace(key.Name), $"Keys:{i}:Name must not be empty");
            Check(key.Key.Length >= ServerApiOptions.MinKeyLength, $"Keys:{i}:Key must be at least {ServerApiOptions.MinKeyLength} characters");
        }

        Check(options.Keys.Select(k => k.Name).Distinct(StringComparer.Ordinal).Count() == options.Keys.Count, "key names must be unique");
        Check(options.MaxBodyBytes is >= 1024 and <= 64 * 1024 * 1024, $"MaxBodyBytes must be between 1 KiB and 64 MiB (was {options.MaxBodyBytes})");
        Check(options.MaxBatchSize is >= 1 and <= 100_000, $"MaxBatchSize must be between 1 and 100,000 (was {options.MaxBatchSize})");
        Check(options.MaxPageSize is >= 1 and <= 100_000, $"MaxPageSize must be between 1 and 100,000 (was {options.MaxPageSize})");
        Check(options.RetryAfter >= TimeSpan.FromSeconds(1) && options.RetryAfter <= TimeSpan.FromHours(1),
            $"RetryAfter must be between 1 second and 1 hour (was {options.RetryAfter})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(bool ok, string message)
        {
            if (!ok)
            {
                failures.Add($"{ServerApiOptions.SectionName}: {message}.");
            }
        }
    }
}
