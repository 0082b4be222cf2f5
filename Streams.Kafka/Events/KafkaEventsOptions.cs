using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// How a silo reaches Kafka for lifecycle events (the topic is <c>Gateway:Events:Topic</c>). Bound from
/// <see cref="KafkaStreamOptions.SectionName"/> (the silo's Kafka connection, so one Kafka configuration suffices) and
/// then from <see cref="SectionName"/>, whose values win: a separate cluster or credentials only when wanted.
/// </summary>
public sealed class KafkaEventsOptions : KafkaClientOptions
{
    public const string SectionName = "Gateway:Kafka:Events";

    /// <summary>Default for <see cref="MessageTimeout"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultMessageTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long librdkafka retries one event before it is dropped (<c>message.timeout.ms</c>, and a hard bound on the
    /// wait). Default <see cref="DefaultMessageTimeout"/>.
    /// </summary>
    public TimeSpan MessageTimeout { get; set; } = DefaultMessageTimeout;

    private protected override void Describe(StringBuilder text) => text.Append("MessageTimeout = ").Append(MessageTimeout).Append(", ");

    /// <summary>Idempotent producer, acks from all in-sync replicas: retries never reorder or repeat a client's events.</summary>
    internal ProducerConfig ToProducerConfig()
    {
        var config = new ProducerConfig();
        ApplyTo(config);
        config.Acks = Acks.All;
        config.EnableIdempotence = true;
        config.MessageTimeoutMs = (int)MessageTimeout.TotalMilliseconds;
        config.LingerMs = 5; // events are small and many at a connect storm: batch them a little
        return config;
    }
}

/// <summary>Validates <see cref="KafkaEventsOptions"/>, reporting all failures at once.</summary>
internal sealed class KafkaEventsOptionsValidator : IValidateOptions<KafkaEventsOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaEventsOptions options)
    {
        const string section = KafkaEventsOptions.SectionName;
        var failures = new List<string>();
        options.Validate(section, failures);
        if (options.MessageTimeout < TimeSpan.FromMilliseconds(100) || options.MessageTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{section}:MessageTimeout must be between 100 ms and 5 minutes (was {options.MessageTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
