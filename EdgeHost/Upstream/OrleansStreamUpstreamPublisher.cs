using Orleans.Streams;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Upstream;

/// <summary>
/// The embedded default: <c>up</c> frames go to the Orleans stream <see cref="UpstreamStreams.Namespace"/>
/// (key = the frame's topic) of provider <see cref="UpstreamStreams.ProviderName"/>, where .NET backends subscribe.
/// </summary>
internal sealed class OrleansStreamUpstreamPublisher(IClusterClient client) : IUpstreamPublisher
{
    // The key is not carried: memory-stream subscribers are in-process backends, and the repeat of a key is never
    // published twice within the window (the sender's client grain remembers it; FrameDispatcher).
    public async Task PublishAsync(string clientId, string topic, byte[] data, string? key, CancellationToken cancellationToken)
    {
        try
        {
            var stream = client.GetStreamProvider(UpstreamStreams.ProviderName)
                .GetStream<UpstreamMessage>(StreamId.Create(UpstreamStreams.Namespace, topic));
            await stream.OnNextAsync(new UpstreamMessage(clientId, topic, data));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new UpstreamUnavailableException("the upstream stream could not take the message", ex);
        }
    }
}
