using System.Text;
using Confluent.Kafka;

namespace OrleansGateway.Streams.Kafka;

/// <summary>How to reach Kafka: shared by <see cref="KafkaStreamOptions"/> and the edge's <c>KafkaUpstreamOptions</c> (EdgeHost/Upstream/Kafka).</summary>
public abstract class KafkaClientOptions
{
    /// <summary>Comma-separated <c>host:port</c> list of bootstrap brokers. Required.</summary>
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>librdkafka <c>security.protocol</c>; null = the librdkafka default (plaintext).</summary>
    public SecurityProtocol? SecurityProtocol { get; set; }

    /// <summary>librdkafka <c>sasl.mechanism</c>; null = the librdkafka default (GSSAPI) when SASL is used.</summary>
    public SaslMechanism? SaslMechanism { get; set; }

    /// <summary>librdkafka <c>sasl.username</c>.</summary>
    public string? SaslUsername { get; set; }

    /// <summary>librdkafka <c>sasl.password</c>. A secret: never logged (see <see cref="ToString"/>).</summary>
    [Redact]
    public string? SaslPassword { get; set; }

    /// <summary>
    /// Further librdkafka properties (e.g. <c>ssl.ca.location</c>, <c>client.id</c>), applied after the typed settings.
    /// Values of keys that look secret (<c>password</c>, <c>secret</c>, <c>token</c>, <c>key</c>) are never logged.
    /// </summary>
    public IDictionary<string, string> AdditionalProperties { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>A description for logs, with secrets redacted.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(GetType().Name).Append(" { ");
        Describe(text);
        text.Append("BootstrapServers = ").Append(BootstrapServers)
            .Append(", SecurityProtocol = ").Append(SecurityProtocol?.ToString() ?? "default")
            .Append(", SaslMechanism = ").Append(SaslMechanism?.ToString() ?? "default")
            .Append(", SaslUsername = ").Append(SaslUsername ?? "none")
            .Append(", SaslPassword = ").Append(SaslPassword is null ? "none" : "***");
        foreach (var (key, value) in AdditionalProperties)
        {
            text.Append(", ").Append(key).Append(" = ").Append(IsSecret(key) ? "***" : value);
        }

        return text.Append(" }").ToString();
    }

    /// <summary>Appends this type's own settings (each followed by <c>", "</c>) to <see cref="ToString"/>.</summary>
    private protected abstract void Describe(StringBuilder text);

    internal static bool IsSecret(string key) =>
        key.Contains("password", StringComparison.OrdinalIgnoreCase)
        || key.Contains("secret", StringComparison.OrdinalIgnoreCase)
        || key.Contains("token", StringComparison.OrdinalIgnoreCase)
        || key.Contains("key", StringComparison.OrdinalIgnoreCase);

    /// <summary>Copies the connection settings into a librdkafka configuration.</summary>
    internal void ApplyTo(ClientConfig config)
    {
        config.BootstrapServers = BootstrapServers;
        config.SecurityProtocol = SecurityProtocol;
        config.SaslMechanism = SaslMechanism;
        config.SaslUsername = SaslUsername;
        config.SaslPassword = SaslPassword;
        foreach (var (key, value) in AdditionalProperties)
        {
            config.Set(key, value);
        }
    }

    /// <summary>
    /// A producer that neither repeats nor reorders a record by its own retries (idempotent, acks from all in-sync
    /// replicas), retrying each record until <paramref name="messageTimeout"/>: the edge's upstream and the silos' events.
    /// </summary>
    internal ProducerConfig ToIdempotentProducerConfig(TimeSpan messageTimeout, TimeSpan linger)
    {
        var config = new ProducerConfig();
        ApplyTo(config);
        config.Acks = Acks.All;
        config.EnableIdempotence = true;
        config.MessageTimeoutMs = (int)messageTimeout.TotalMilliseconds;
        config.LingerMs = linger.TotalMilliseconds;
        return config;
    }

    /// <summary>Checks a producer's <c>MessageTimeout</c>: 100 ms to 5 minutes.</summary>
    internal static void ValidateMessageTimeout(string section, TimeSpan messageTimeout, List<string> failures)
    {
        if (messageTimeout < TimeSpan.FromMilliseconds(100) || messageTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{section}:MessageTimeout must be between 100 ms and 5 minutes (was {messageTimeout}).");
        }
    }

    /// <summary>Checks the connection settings, adding one message per failure.</summary>
    internal void Validate(string section, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            failures.Add($"{section}:BootstrapServers is required (comma-separated host:port list).");
        }

        if (SaslPassword is not null && string.IsNullOrEmpty(SaslUsername))
        {
            failures.Add($"{section}:SaslUsername is required when SaslPassword is set.");
        }

        foreach (var key in AdditionalProperties.Keys)
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                failures.Add($"{section}:AdditionalProperties has an empty key.");
            }
        }
    }
}
