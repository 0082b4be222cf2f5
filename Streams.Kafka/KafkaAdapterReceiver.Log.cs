using Microsoft.Extensions.Logging;

namespace OrleansGateway.Streams.Kafka;

internal sealed partial class KafkaAdapterReceiver
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Reading {Topic}/{Partition} from the offset committed to group {GroupId}.", EventName = "KafkaPartitionAssigned")]
        public static partial void Assigned(ILogger logger, string topic, int partition, string groupId);

        [LoggerMessage(2, LogLevel.Warning, "Skipped record {Topic}/{Partition}@{Offset}: {Reason}.", EventName = "KafkaRecordInvalid")]
        public static partial void InvalidRecord(ILogger logger, string topic, int partition, long offset, string reason);

        [LoggerMessage(3, LogLevel.Debug, "Committed {Topic}/{Partition} up to offset {Offset}.", EventName = "KafkaOffsetCommitted")]
        public static partial void Committed(ILogger logger, string topic, int partition, long offset);

        [LoggerMessage(4, LogLevel.Warning, "Commit of {Topic}/{Partition} at offset {Offset} failed (attempt {Attempt}): {Reason}. Retrying.", EventName = "KafkaCommitRetry")]
        public static partial void CommitRetry(ILogger logger, string topic, int partition, long offset, int attempt, string reason);

        [LoggerMessage(5, LogLevel.Error, "Commit of {Topic}/{Partition} at offset {Offset} failed after {Attempts} attempts; the next delivery retries it.", EventName = "KafkaCommitFailed")]
        public static partial void CommitFailed(ILogger logger, string topic, int partition, long offset, int attempts, Exception exception);

        [LoggerMessage(6, LogLevel.Warning, "Fetching {Topic}/{Partition} paused: {Pending} records are waiting for delivery.", EventName = "KafkaPartitionPaused")]
        public static partial void Paused(ILogger logger, string topic, int partition, int pending);

        [LoggerMessage(7, LogLevel.Information, "Fetching {Topic}/{Partition} resumed: {Pending} records are waiting for delivery.", EventName = "KafkaPartitionResumed")]
        public static partial void Resumed(ILogger logger, string topic, int partition, int pending);

        [LoggerMessage(8, LogLevel.Error, "Orleans gave up delivering {Topic}/{Partition}@{Offset}; it is copied to the dead-letter topic if one is configured, then committed past unless the queue is stopping.", EventName = "KafkaRecordGivenUp")]
        public static partial void GaveUp(ILogger logger, string topic, int partition, long offset);

        [LoggerMessage(9, LogLevel.Warning, "Kafka client error on {Topic}/{Partition}: {Code} {Reason}.", EventName = "KafkaClientError")]
        public static partial void ClientError(ILogger logger, string topic, int partition, Confluent.Kafka.ErrorCode code, string reason);

        [LoggerMessage(10, LogLevel.Warning, "Reading {Topic}/{Partition} failed: {Code} {Reason}.", EventName = "KafkaConsumeError")]
        public static partial void ConsumeError(ILogger logger, string topic, int partition, Confluent.Kafka.ErrorCode code, string reason);

        [LoggerMessage(11, LogLevel.Warning, "Shutdown of {Topic}/{Partition} did not finish within {Timeout}; uncommitted records will be read again.", EventName = "KafkaShutdownTimedOut")]
        public static partial void ShutdownTimedOut(ILogger logger, string topic, int partition, TimeSpan timeout);

        [LoggerMessage(12, LogLevel.Information, "Stopped reading {Topic}/{Partition}; committed up to offset {Offset}.", EventName = "KafkaPartitionClosed")]
        public static partial void Closed(ILogger logger, string topic, int partition, long offset);

        [LoggerMessage(13, LogLevel.Warning, "Closing the consumer of {Topic}/{Partition} failed.", EventName = "KafkaCloseFailed")]
        public static partial void CloseFailed(ILogger logger, string topic, int partition, Exception exception);
    }
}
