using System.Text.Json;

namespace OrleansGateway.Client;

/// <summary>Channel presence (docs/protocol.md, "Extension: channel presence").</summary>
public sealed partial class GatewayClient
{
    /// <summary>
    /// Who is in <paramref name="channel"/> (the token must allow it; subscribing is not needed): one page of members
    /// ordered by client id, with the total. Pass <see cref="PresencePage.Next"/> as <paramref name="after"/> for the next.
    /// </summary>
    public async Task<PresencePage> GetPresenceAsync(string channel, string? after = null, CancellationToken cancellationToken = default)
    {
        PresencePage? page = null;
        await RequestAsync(
            id => Frame("presence", id, w =>
            {
                w.WriteString("ch", channel);
                if (after is not null)
                {
                    w.WriteString("after", after);
                }
            }),
            reply => page = ReadPage(reply),
            cancellationToken);
        return page!;
    }

    /// <summary>
    /// Subscribes to a channel as <see cref="SubscribeAsync(string, CancellationToken)"/>, and also to its joins and
    /// leaves: <see cref="ChannelSubscription.PresenceEvents"/>.
    /// </summary>
    public Task<ChannelSubscription> SubscribeWithPresenceAsync(string channel, CancellationToken cancellationToken = default) =>
        SubscribeCoreAsync(channel, since: null, cancellationToken, presence: true);

    private static void WritePresence(Utf8JsonWriter writer, ChannelSubscription subscription)
    {
        if (subscription.WithPresence)
        {
            writer.WriteBoolean("presence", true);
        }
    }

    private async Task OnPresenceAsync(JsonElement frame)
    {
        ChannelSubscription? subscription;
        lock (_gate)
        {
            _subscriptions.TryGetValue(frame.GetProperty("ch").GetString()!, out subscription);
        }

        if (subscription is not null)
        {
            await subscription.OfferPresenceAsync(
                new PresenceEvent(subscription.Channel, frame.GetProperty("client").GetString()!, frame.GetProperty("t").GetString() == "join"),
                _stop.Token);
        }
    }

    private static PresencePage ReadPage(JsonElement reply) => new(
        reply.GetProperty("total").GetInt32(),
        [.. reply.GetProperty("members").EnumerateArray().Select(m => new ChannelMember(m.GetProperty("client").GetString()!, m.GetProperty("sessions").GetInt32()))],
        reply.TryGetProperty("next", out var next) ? next.GetString() : null);
}

/// <summary>One member of a channel: a client id and its subscribed sessions (tabs, devices) on all edges.</summary>
public sealed record ChannelMember(string ClientId, int Sessions);

/// <summary>A page of a channel's members, ordered by client id.</summary>
/// <param name="Total">Members in the channel now (all pages).</param>
/// <param name="Members">This page.</param>
/// <param name="Next">Pass as <c>after</c> for the next page; null on the last.</param>
public sealed record PresencePage(int Total, IReadOnlyList<ChannelMember> Members, string? Next);

/// <summary>A client joined (its first session anywhere) or left (its last, after the server's debounce) a channel.</summary>
public sealed record PresenceEvent(string Channel, string ClientId, bool Joined);
