using System.Text.Json;
using System.Threading.Channels;

namespace OrleansGateway.Client;

/// <summary>A channel subscription: publications once each, in offset order, across reconnects. Dispose to unsubscribe.</summary>
public sealed class ChannelSubscription : IAsyncEnumerable<Publication>, IAsyncDisposable
{
    private readonly GatewayClient _client;
    private readonly Channel<Publication> _publications = System.Threading.Channels.Channel.CreateUnbounded<Publication>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private long _offset = -1;

    internal ChannelSubscription(GatewayClient client, string channel)
    {
        _client = client;
        Channel = channel;
    }

    public string Channel { get; }

    /// <summary>The last offset delivered (or the channel's offset when subscribed); -1 before the first reply.</summary>
    public long Offset => Interlocked.Read(ref _offset);

    public IAsyncEnumerator<Publication> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        _publications.Reader.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    public ValueTask DisposeAsync() => new(_client.UnsubscribeAsync(this));

    internal void OnSubscribed(JsonElement ok)
    {
        if (Offset < 0 && ok.TryGetProperty("off", out var off))
        {
            Interlocked.Exchange(ref _offset, off.GetInt64());
        }
    }

    internal void OnResubscribed(JsonElement ok, Action<RecoveryLost>? recoveryLost)
    {
        if (ok.TryGetProperty("recovered", out var recovered) && !recovered.GetBoolean())
        {
            recoveryLost?.Invoke(new RecoveryLost(Channel));
        }
    }

    internal ValueTask OfferAsync(Publication publication, CancellationToken cancellationToken)
    {
        if (publication.Offset <= Offset)
        {
            return ValueTask.CompletedTask; // a replay overlapping what we already had
        }

        Interlocked.Exchange(ref _offset, publication.Offset);
        return _publications.Writer.WriteAsync(publication, cancellationToken);
    }

    internal void Complete() => _publications.Writer.TryComplete();
}
