namespace OrleansGateway.EdgeHost.Upstream;

/// <summary>Where client <c>up</c> frames go: Kafka in production, an Orleans memory stream in the embedded default.</summary>
internal interface IUpstreamPublisher
{
    /// <summary>Completes once the broker has the message (the client is then told <c>ok</c>).</summary>
    /// <exception cref="UpstreamUnavailableException">The broker could not take it; the client is told <c>err unavailable</c>.</exception>
    Task PublishAsync(string clientId, string topic, byte[] data, CancellationToken cancellationToken);
}

internal sealed class UpstreamUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
