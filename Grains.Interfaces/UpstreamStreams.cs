namespace OrleansGateway.Grains;

/// <summary>
/// Orleans streams the gateway uses when no Kafka is configured (the embedded default). .NET backends subscribe
/// to <see cref="Namespace"/> with the topic as the stream key to hear clients' <c>up</c> frames.
/// </summary>
public static class UpstreamStreams
{
    /// <summary>Stream provider name, on silos and edges.</summary>
    public const string ProviderName = "ogw";

    /// <summary>Namespace of the upstream streams; the key is the <c>up</c> frame's <c>topic</c>.</summary>
    public const string Namespace = "ogw.upstream";
}

/// <summary>A client's <c>up</c> frame as delivered to backends.</summary>
[GenerateSerializer, Immutable, Alias("ogw.UpstreamMessage")]
public sealed record UpstreamMessage(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string Topic,
    [property: Id(2)] byte[] Data);
