namespace OrleansGateway.EdgeHost.Upstream;

/// <summary>Where client <c>up</c> frames go: Kafka in production, an Orleans memory stream in the embedded default.</summary>
internal interface IUpstreamPublisher
{
    /// <summary>Completes once the broker has the message (the client is then told <c>ok</c>).</summary>
    /// <param name="clientId">The sender.</param>
    /// <param name="topic">The frame's <c>topic</c>.</param>
    /// <param name="data">The frame's <c>data</c>, raw UTF-8 JSON.</param>
    /// <param name="cancellationToken">Stops waiting; the message may still be taken.</param>
    /// <exception cref="UpstreamUnavailableException">The broker could not take it; the client is told <c>err unavailable</c>.</exception>
    /// <param name="key">The frame's idempotency key, or null: Kafka records carry it in header <c>ogw-key</c> for consumers to de-duplicate.</param>
    Task PublishAsync(string clientId, string topic, byte[] data, string? key, CancellationToken cancellationToken);
}

internal sealed class UpstreamUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
