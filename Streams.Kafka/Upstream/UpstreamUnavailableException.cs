namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// Kafka did not acknowledge an upstream record in time (brokers down, timeout, producer failure). The record may or may
/// not have been written; the caller reports the failure to the client, which may retry.
/// </summary>
public sealed class UpstreamUnavailableException : Exception
{
    public UpstreamUnavailableException(string message)
        : base(message)
    {
    }

    public UpstreamUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
