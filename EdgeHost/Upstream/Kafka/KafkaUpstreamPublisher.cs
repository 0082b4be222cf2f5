namespace OrleansGateway.EdgeHost.Upstream.Kafka;

/// <summary><c>up</c> frames to the configured Kafka topic (acks=all, idempotent): <c>ok</c> only after the broker acknowledged.</summary>
internal sealed class KafkaUpstreamPublisher(KafkaUpstreamProducer producer) : IUpstreamPublisher
{
    public Task PublishAsync(string clientId, string topic, byte[] data, string? key, CancellationToken cancellationToken) =>
        producer.ProduceAsync(clientId, topic, data, key, cancellationToken);
}
