using OrleansGateway.Streams.Kafka;

namespace OrleansGateway.EdgeHost.Upstream;

/// <summary><c>up</c> frames to the configured Kafka topic (acks=all, idempotent): <c>ok</c> only after the broker acknowledged.</summary>
internal sealed class KafkaUpstreamPublisher(KafkaUpstreamProducer producer) : IUpstreamPublisher
{
    public async Task PublishAsync(string clientId, string topic, byte[] data, CancellationToken cancellationToken)
    {
        try
        {
            await producer.ProduceAsync(clientId, topic, data, cancellationToken);
        }
        catch (OrleansGateway.Streams.Kafka.UpstreamUnavailableException ex)
        {
            throw new UpstreamUnavailableException("Kafka did not acknowledge the message", ex);
        }
    }
}
