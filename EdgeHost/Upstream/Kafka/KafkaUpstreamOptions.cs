using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.EdgeHost.Upstream.Kafka;

/// <summary>Where client <c>up</c> frames go: one Kafka topic (docs/kafka.md, "Upstream"). Section <see cref="SectionName"/>.</summary>
internal sealed class KafkaUpstreamOptions : KafkaClientOptions
{
    public const string SectionName = "Gateway:Kafka:Upstream";

    /// <summary>Default for <see cref="MessageTimeout"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultMessageTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Default for <see cref="Linger"/>: 1 ms.</summary>
    public static readonly TimeSpan DefaultLinger = TimeSpan.FromMilliseconds(1);

    /// <summary>The topic every <c>up</c> frame is produced to. Required.</summary>
    public string Topic { get; set; } = string.Empty;

    /// <summary>
    /// Longest wait for Kafka's acknowledgement (librdkafka <c>message.timeout.ms</c>, and a hard bound on
    /// <see cref="KafkaUpstreamProducer.ProduceAsync"/>). Default <see cref="DefaultMessageTimeout"/>.
    /// </summary>
    public TimeSpan MessageTimeout { get; set; } = DefaultMessageTimeout;

    /// <summary>librdkafka <c>linger.ms</c>: how long records wait to be batched. Default <see cref="DefaultLinger"/>.</summary>
    public TimeSpan Linger { get; set; } = DefaultLinger;

    private protected override void Describe(StringBuilder text) =>
        text.Append("Topic = ").Append(Topic).Append(", ")
            .Append("MessageTimeout = ").Append(MessageTimeout).Append(", ")
            .Append("Linger = ").Append(Linger).Append(", ");

    /// <summary>Idempotent producer, acks from all in-sync replicas.</summary>
    internal ProducerConfig ToProducerConfig() => ToIdempotentProducerConfig(MessageTimeout, Linger);
}

/// <summary>Validates <see cref="KafkaUpstreamOptions"/>, reporting all failures at once.</summary>
internal sealed class KafkaUpstreamOptionsValidator : IValidateOptions<KafkaUpstreamOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaUpstreamOptions options)
    {
        const string section = KafkaUpstreamOptions.SectionName;
        var failures = new List<string>();
        options.Validate(section, failures);

        if (string.IsNullOrWhiteSpace(options.Topic))
        {
            failures.Add($"{section}:Topic is required.");
        }

        KafkaClientOptions.ValidateMessageTimeout(section, options.MessageTimeout, failures);

        if (options.Linger < TimeSpan.Zero || options.Linger >= options.MessageTimeout)
        {
            failures.Add($"{section}:Linger must be at least 0 and below MessageTimeout (was {options.Linger}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
