using System.Text.Json;
using System.Threading.Channels;

namespace OrleansGateway.Client;

/// <summary>A channel subscription: publications once each, in offset order, across reconnects. Dispose to unsubscribe.</summary>
public sealed class ChannelSubscription : IAsyncEnumerable<Publication>, IAsyncDisposable
{
    private readonly GatewayClient _client;
    private readonly Channel<Publication> _publications = System.Threading.Channels.Channel.CreateUnbounded<Publication>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private long _offset;
    private volatile bool _confirmed;

    // Only for subscriptions with presence (GatewayClient.SubscribeWithPresenceAsync).
    private readonly Channel<PresenceEvent>? _presence;

    internal ChannelSubscription(GatewayClient client, string channel, long? since, bool presence = false)
    {
        _client = client;
        Channel = channel;
        _offset = since ?? -1;
        _presence = presence ? System.Threading.Channels.Channel.CreateUnbounded<PresenceEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true }) : null;
    }

    public string Channel { get; }

    /// <summary>
    /// The last offset delivered (or the channel's offset when subscribed); before the first reply, the <c>since</c>
    /// asked for, else -1. Persist it to resume with <see cref="GatewayClient.SubscribeAsync(string, long, CancellationToken)"/>.
    /// </summary>
    public long Offset => Interlocked.Read(ref _offset);

    /// <summary>The server confirmed the subscription (renewed on every reconnect from then on).</summary>
    internal bool Confirmed => _confirmed;

    public IAsyncEnumerator<Publication> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        _publications.Reader.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    public ValueTask DisposeAsync() => new(_client.UnsubscribeAsync(this));

    /// <summary>The <c>ok</c> of a <c>sub</c> (first or renewed): <c>off</c> is the channel's offset, <c>recovered</c> the replay's completeness.</summary>
    internal void OnSubscribed(JsonElement ok, Action<RecoveryLost>? recoveryLost)
    {
        if (ok.TryGetProperty("off", out var off) && (Offset < 0 || Offset > off.GetInt64()))
        {
            // A fresh subscription, or a channel behind us (it lost its state): count from its offset.
            Interlocked.Exchange(ref _offset, off.GetInt64());
        }

        _confirmed = true;
        if (ok.TryGetProperty("recovered", out var recovered) && !recovered.GetBoolean())
        {
            recoveryLost?.Invoke(new RecoveryLost(Channel));
        }
    }

    /// <summary>Subscribed with presence: <see cref="PresenceEvents"/> gets the channel's joins and leaves.</summary>
    public bool WithPresence => _presence is not null;

    /// <summary>
    /// Joins and leaves of the channel, in the server's order (only with
    /// <see cref="GatewayClient.SubscribeWithPresenceAsync"/>; empty otherwise). Those made while reconnecting are not
    /// delivered: read <see cref="GatewayClient.GetPresenceAsync"/> again after a reconnect.
    /// </summary>
    public IAsyncEnumerable<PresenceEvent> PresenceEvents(CancellationToken cancellationToken = default) =>
        _presence is null ? AsyncEnumerable.Empty<PresenceEvent>() : _presence.Reader.ReadAllAsync(cancellationToken);

    internal ValueTask OfferPresenceAsync(PresenceEvent change, CancellationToken cancellationToken) =>
        _presence is null ? ValueTask.CompletedTask : _presence.Writer.WriteAsync(change, cancellationToken);

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
