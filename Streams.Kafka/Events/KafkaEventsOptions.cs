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

    /// <summary>Retries never reorder or repeat a client's events; a little batching, for connect storms.</summary>
    internal ProducerConfig ToProducerConfig() => ToIdempotentProducerConfig(MessageTimeout, linger: TimeSpan.FromMilliseconds(5));
}

/// <summary>Validates <see cref="KafkaEventsOptions"/>, reporting all failures at once.</summary>
internal sealed class KafkaEventsOptionsValidator : IValidateOptions<KafkaEventsOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaEventsOptions options)
    {
        const string section = KafkaEventsOptions.SectionName;
        var failures = new List<string>();
        options.Validate(section, failures);
        KafkaClientOptions.ValidateMessageTimeout(section, options.MessageTimeout, failures);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
