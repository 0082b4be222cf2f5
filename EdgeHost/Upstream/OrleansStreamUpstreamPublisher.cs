using Orleans.Streams;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Upstream;

/// <summary>
/// The embedded default: <c>up</c> frames go to the Orleans stream <see cref="UpstreamStreams.Namespace"/>
/// (key = the frame's topic) of provider <see cref="UpstreamStreams.ProviderName"/>, where .NET backends subscribe.
/// </summary>
internal sealed class OrleansStreamUpstreamPublisher(IClusterClient client) : IUpstreamPublisher
{
    public async Task PublishAsync(string clientId, string topic, byte[] data, CancellationToken cancellationToken)
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
