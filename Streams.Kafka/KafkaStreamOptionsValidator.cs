using Microsoft.Extensions.Options;

namespace OrleansGateway.Streams.Kafka;

/// <summary>Validates every <see cref="KafkaStreamOptions"/> instance (any provider name), reporting all failures at once.</summary>
internal sealed class KafkaStreamOptionsValidator : IValidateOptions<KafkaStreamOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaStreamOptions options)
    {
        var section = string.IsNullOrEmpty(name) ? KafkaStreamOptions.SectionName : $"{KafkaStreamOptions.SectionName}({name})";
        var failures = new List<string>();
        options.Validate(section, failures);

        if (options.Topics is null || options.Topics.Count == 0)
        {
            failures.Add($"{section}:Topics must list at least one topic.");
        }
        else
        {
            if (options.Topics.Any(string.IsNullOrWhiteSpace))
            {
                failures.Add($"{section}:Topics has an empty topic name.");
            }

            var duplicates = options.Topics.Where(t => !string.IsNullOrWhiteSpace(t)).GroupBy(t => t, StringComparer.Ordinal)
                .Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            if (duplicates.Count > 0)
            {
                failures.Add($"{section}:Topics lists {string.Join(", ", duplicates)} more than once.");
            }
        }

        if (options.DeadLetterTopic is { } deadLetters && (string.IsNullOrWhiteSpace(deadLetters) || options.Topics?.Contains(deadLetters) == true))
        {
            failures.Add($"{section}:DeadLetterTopic must be a topic name other than the topics read (was '{deadLetters}').");
        }

        if (string.IsNullOrWhiteSpace(options.ConsumerGroupId))
        {
            failures.Add($"{section}:ConsumerGroupId is required (offsets are committed to it).");
        }

        if (options.FetchWaitMaxMs is < 0 or > 300_000)
        {
            failures.Add($"{section}:FetchWaitMaxMs must be between 0 and 300000 (was {options.FetchWaitMaxMs}).");
        }

        if (options.MaxBatchSize < 1)
        {
            failures.Add($"{section}:MaxBatchSize must be at least 1 (was {options.MaxBatchSize}).");
        }

        if (options.MaxPendingRecords < options.MaxBatchSize)
        {
            failures.Add($"{section}:MaxPendingRecords must be at least MaxBatchSize (was {options.MaxPendingRecords} < {options.MaxBatchSize}).");
        }

        if (options.CacheSize < 10)
        {
            failures.Add($"{section}:CacheSize must be at least 10 (was {options.CacheSize}).");
        }

        if (options.QueuedMaxMessagesKbytes is < 1 or > 2_097_151)
        {
            failures.Add($"{section}:QueuedMaxMessagesKbytes must be between 1 and 2097151 (was {options.QueuedMaxMessagesKbytes}).");
        }

        if (!Enum.IsDefined(options.AutoOffsetReset))
        {
            failures.Add($"{section}:AutoOffsetReset is not a valid value (was {options.AutoOffsetReset}).");
        }

        if (options.MetadataTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{section}:MetadataTimeout must be positive (was {options.MetadataTimeout}).");
        }

        if (options.CommitAttempts < 1)
        {
            failures.Add($"{section}:CommitAttempts must be at least 1 (was {options.CommitAttempts}).");
        }

        if (options.CommitRetryBackoff < TimeSpan.Zero)
        {
            failures.Add($"{section}:CommitRetryBackoff must not be negative (was {options.CommitRetryBackoff}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
