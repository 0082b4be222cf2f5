using Microsoft.Extensions.Logging;

namespace OrleansGateway.EdgeHost.Upstream.Kafka;

internal sealed partial class KafkaUpstreamProducer
{
    private static partial class Log
    {
        [LoggerMessage(50, LogLevel.Trace, "Upstream record acknowledged: {Topic}/{Partition}@{Offset}.", EventName = "KafkaUpstreamProduced")]
        public static partial void Produced(ILogger logger, string topic, int partition, long offset);

        [LoggerMessage(51, LogLevel.Warning, "Upstream record to {Topic} failed: {Code} {Reason}.", EventName = "KafkaUpstreamFailed")]
        public static partial void ProduceFailed(ILogger logger, string topic, Confluent.Kafka.ErrorCode code, string reason);

        [LoggerMessage(52, LogLevel.Warning, "Upstream record to {Topic} not acknowledged within {Timeout}.", EventName = "KafkaUpstreamTimedOut")]
        public static partial void TimedOut(ILogger logger, string topic, TimeSpan timeout);

        [LoggerMessage(53, LogLevel.Warning, "Upstream producer for {Topic}: {Code} {Reason} (fatal: {Fatal}).", EventName = "KafkaUpstreamClientError")]
        public static partial void ClientError(ILogger logger, string topic, Confluent.Kafka.ErrorCode code, string reason, bool fatal);
    }
}
