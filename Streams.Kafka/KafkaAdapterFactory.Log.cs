using Microsoft.Extensions.Logging;

namespace OrleansGateway.Streams.Kafka;

internal sealed partial class KafkaAdapterFactory
{
    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Information, "Kafka stream provider {Name} reads {Partitions} (one queue per partition), committing to group {GroupId}.", EventName = "KafkaProviderPartitions")]
        public static partial void Partitions(ILogger logger, string name, string partitions, string groupId);
    }
}
