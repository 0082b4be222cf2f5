using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Orleans.Runtime;

using OrleansGateway.Grains;

namespace OrleansGateway.Streams.Kafka;

/// <summary>The outcome of mapping one Kafka record: a stream and its event, or why the record is invalid.</summary>
internal readonly record struct KafkaMappedRecord(StreamId StreamId, InboundMessage? Record, string? Error)
{
    public bool IsValid => Record is not null;

    public static KafkaMappedRecord Invalid(string error) => new(default, null, error);
}

/// <summary>
/// Maps a Kafka record to the stream it is delivered on (the contract in <c>docs/kafka.md</c>). Pure: no I/O, no state.
/// </summary>
internal static class KafkaRecordMapper
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static KafkaMappedRecord Map(ConsumeResult<byte[]?, byte[]?> result) =>
        Map(result.Topic, result.Partition.Value, result.Offset.Value, result.Message.Key, result.Message.Headers, result.Message.Value);

    public static KafkaMappedRecord Map(string topic, int partition, long offset, byte[]? key, Headers? headers, byte[]? value)
    {
        if (key is null || key.Length == 0)
        {
            return KafkaMappedRecord.Invalid("the record has no key (client id or channel name)");
        }

        if (!TryDecode(key, out var streamKey))
        {
            return KafkaMappedRecord.Invalid("the record key is not valid UTF-8");
        }

        var streamNamespace = KafkaRecordRouting.ClientNamespace;
        if (TryGetLastHeader(headers, KafkaRecordRouting.TargetHeader, out var targetBytes))
        {
            if (!TryDecode(targetBytes, out var target))
            {
                return KafkaMappedRecord.Invalid($"header '{KafkaRecordRouting.TargetHeader}' is not valid UTF-8");
            }

            switch (target)
            {
                case KafkaRecordRouting.TargetClient:
                    streamNamespace = KafkaRecordRouting.ClientNamespace;
                    break;
                case KafkaRecordRouting.TargetChannel:
                    streamNamespace = KafkaRecordRouting.ChannelNamespace;
                    break;
                default:
                    return KafkaMappedRecord.Invalid(
                        $"header '{KafkaRecordRouting.TargetHeader}' is '{target}', expected '{KafkaRecordRouting.TargetClient}' or '{KafkaRecordRouting.TargetChannel}'");
            }
        }

        var from = topic;
        if (TryGetLastHeader(headers, KafkaRecordRouting.FromHeader, out var fromBytes))
        {
            if (!TryDecode(fromBytes, out var decoded))
            {
                return KafkaMappedRecord.Invalid($"header '{KafkaRecordRouting.FromHeader}' is not valid UTF-8");
            }

            if (decoded.Length > 0)
            {
                from = decoded;
            }
        }

        if (value is null)
        {
            return KafkaMappedRecord.Invalid("the record has no value (a tombstone)");
        }

        if (!IsSingleJsonValue(value))
        {
            return KafkaMappedRecord.Invalid("the record value is not one valid JSON value");
        }

        var streamId = StreamId.Create(streamNamespace, streamKey);
        return new KafkaMappedRecord(streamId, new InboundMessage(from, value, KafkaRecordRouting.Source(topic, partition), offset) { TraceParent = KafkaTracing.ReadTraceParent(headers) }, null);
    }

    /// <summary>True when <paramref name="utf8"/> holds exactly one JSON value (whitespace around it allowed).</summary>
    internal static bool IsSingleJsonValue(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read())
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool TryGetLastHeader(Headers? headers, string name, out byte[] value)
    {
        if (headers is not null && headers.TryGetLastBytes(name, out var bytes))
        {
            value = bytes ?? [];
            return true;
        }

        value = [];
        return false;
    }

    private static bool TryDecode(byte[] bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = string.Empty;
            return false;
        }
    }
}
