namespace OrleansGateway.Streams.Kafka;

/// <summary>A Kafka failure inside the stream provider (metadata, consume, commit); the Kafka client's exception is the inner one.</summary>
public sealed class KafkaStreamException : Exception
{
    public KafkaStreamException(string message)
        : base(message)
    {
    }

    public KafkaStreamException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
