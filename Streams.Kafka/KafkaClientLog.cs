using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace OrleansGateway.Streams.Kafka;

/// <summary>Routes librdkafka's own log lines (otherwise written to stderr) to an <see cref="ILogger"/>.</summary>
internal static partial class KafkaClientLog
{
    public static void Forward(ILogger logger, LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
            SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        Librdkafka(logger, level, message.Name, message.Facility, message.Message);
    }

    [LoggerMessage(EventId = 60, Message = "librdkafka {Client} {Facility}: {Text}", EventName = "Librdkafka")]
    private static partial void Librdkafka(ILogger logger, LogLevel level, string client, string facility, string text);
}
