using OrleansGateway.EdgeHost.Auth;
using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.EdgeHost.Upstream;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// Acts on one parsed client frame. Frames of a session are handled one at a time, in order: that is what
/// keeps one sender's messages to one recipient in send order (docs/protocol.md, Guarantees §1).
/// A frame is answered <c>ok</c> only once the mailbox, channel or broker has it; any failure is an
/// <c>err</c>, never a silent drop. Data flows one way: the transport hands it a frame, it calls the cluster
/// (grains, <see cref="ChannelSubscriptions"/>, the upstream broker) and queues the reply; it never calls the session back.
/// </summary>
internal sealed partial class FrameDispatcher(
    GrainRefs grains,
    ChannelSubscriptions channels,
    IUpstreamPublisher upstream,
    GrainCallPolicy calls,
    SendTickets tickets,
    SendBatcher batcher,
    IOptions<EdgeOptions> edgeOptions,
    JwtAuthenticator authenticator,
    IOptions<LimitsOptions> limits,
    LocalEdge edge,
    IOptions<GatewayEventsOptions> events,
    ILogger<FrameDispatcher> logger)
{
    private const string KeyReused = "key already used with other data";

    /// <summary>Members per <c>presence</c> page (docs/protocol.md): a page stays well under the smallest frame limit.</summary>
    internal const int PresencePageSize = 100;

    private readonly int _maxSubscriptions = limits.Value.MaxSubscriptionsPerSession;
    private readonly GatewayEventsOptions _events = events.Value;
    private readonly bool _sendAcksInPush = edgeOptions.Value.SendAcksInPush;
    private readonly bool _batchSends = edgeOptions.Value.BatchSends;

    public Task DispatchAsync(ClientSession session, ClientFrame frame) =>
        EdgeTracing.DispatchAsync(this, session, frame, static (dispatcher, session, frame) => dispatcher.DispatchCoreAsync(session, frame));

    private Task DispatchCoreAsync(ClientSession session, ClientFrame frame) => frame.Type switch
    {
        ClientFrameType.Ping => Reply(session, JsonFrameCodec.Pong(frame.Id)),
        ClientFrameType.Send => SendAsync(session, frame),
        ClientFrameType.Sub => SubscribeAsync(session, frame),
        ClientFrameType.Unsub => UnsubscribeAsync(session, frame),
        ClientFrameType.Pub => PublishAsync(session, frame),
        ClientFrameType.Up => UpAsync(session, frame),
        ClientFrameType.Auth => RefreshTokenAsync(session, frame),
        ClientFrameType.Presence => PresenceAsync(session, frame),
        _ => Reply(session, JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, "frame type not supported by this edge")),
    };

    private async Task SubscribeAsync(ClientSession session, ClientFrame frame)
    {
        var channel = frame.Channel!;
        if (!CheckChannel(session, frame))
        {
            return;
        }

        ChannelAdd added;
        try
        {
            added = await channels.SubscribeAsync(session.Streams, channel, frame.Since, frame.Id, _maxSubscriptions, frame.Presence);
        }
        catch (Exception ex)
        {
            Log.ClusterCallFailed(logger, ex, "sub", session.ClientId);
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Unavailable, "the cluster could not take the subscription; retry"));
            return;
        }

        if (added == ChannelAdd.LimitReached)
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.RateLimited, "subscription limit of this session reached"));
        }
        else if (added == ChannelAdd.AlreadyFollowed)
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, "already subscribed to this channel"));
        }
        else if (_events.Produces(LifecycleEventKinds.Subscribed))
        {
            await ReportChannelAsync(session, channel, subscribed: true);
        }
    }

    private async Task UnsubscribeAsync(ClientSession session, ClientFrame frame)
    {
        var report = _events.Produces(LifecycleEventKinds.Unsubscribed) && Array.IndexOf(session.Streams.Channels(), frame.Channel) >= 0;
        await channels.UnsubscribeAsync(session.Streams, frame.Channel!);
        session.Send(JsonFrameCodec.Ok(frame.Id));
        if (report)
        {
            await ReportChannelAsync(session, frame.Channel!, subscribed: false);
        }
    }

    /// <summary>
    /// Tells the client's grain, which produces the <c>subscribed</c>/<c>unsubscribed</c> event in order with the client's
    /// other events (Grains/ClientGrain.Events.cs). After the client's answer, so it never waits for it; awaited before the
    /// session's next frame (or its detach at close) so the grain sees them in this order: a one-way call was seen to
    /// reach the grain after the session's later detach (Events_ConnectSubscribeUnsubscribeClose_BackendSeesEachInOrder).
    /// </summary>
    private async Task ReportChannelAsync(ClientSession session, string channel, bool subscribed)
    {
        try
        {
            await calls.OnceAsync(grains.Client(session.ClientId).ChannelChangedAsync(edge.EdgeId, session.SessionId, channel, subscribed));
        }
        catch (Exception ex)
        {
            // A lost event, not a failed sub: the subscription itself stands (docs/events.md, "Delivery").
            Log.ChannelEventNotSent(logger, ex, session.ClientId);
        }
    }

    private Task PublishAsync(ClientSession session, ClientFrame frame)
    {
        if (!CheckChannel(session, frame))
        {
            return Task.CompletedTask;
        }

        if (frame.Key is not null)
        {
            Task<Accepted> once;
            try
            {
                once = grains.Channel(frame.Channel!).PublishOnceAsync(session.ClientId, frame.Data!, frame.Key);
            }
            catch (Exception ex)
            {
                once = Task.FromException<Accepted>(ex);
            }

            return AcknowledgeOnceAsync(session, frame, "pub", channel: true, once);
        }

        Task call;
        try
        {
            call = grains.Channel(frame.Channel!).PublishAsync(session.ClientId, frame.Data!);
        }
        catch (Exception ex)
        {
            call = Task.FromException(ex);
        }

        return AcknowledgeAsync(session, frame, "pub", call);
    }

    private async Task RefreshTokenAsync(ClientSession session, ClientFrame frame)
    {
        var identity = await authenticator.AuthenticateAsync(frame.Token);
        if (identity is null)
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Forbidden, "invalid token"));
        }
        else if (identity.ClientId != session.ClientId)
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Forbidden, "the token is for another client"));
        }
        else
        {
            session.RefreshIdentity(identity);
            session.Send(JsonFrameCodec.Ok(frame.Id));
        }
    }

    private static bool CheckChannel(ClientSession session, ClientFrame frame)
    {
        if (!ChannelNames.IsValid(frame.Channel))
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, "ch must be 1-128 chars of [A-Za-z0-9._:@/-]"));
            return false;
        }

        if (!ChannelNames.IsAllowed(session.Identity.ChannelPatterns, frame.Channel!))
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Forbidden, "the token does not allow this channel"));
            return false;
        }

        return true;
    }

    /// <summary>
    /// Answers <c>ok</c> once <paramref name="call"/> succeeded, <c>err unavailable</c> when it failed, including when it
    /// did not answer within <see cref="EdgeOptions.CallTimeout"/> (the edge's Orleans response timeout): frames are
    /// handled one at a time, so an unanswered call must not hold the session's later frames for long.
    /// </summary>
    private async Task AcknowledgeAsync(ClientSession session, ClientFrame frame, string what, Task call)
    {
        try
        {
            await call;
        }
        catch (Exception ex)
        {
            // Not acknowledged, so nothing is lost: the client learns it must retry.
            Log.ClusterCallFailed(logger, ex, what, session.ClientId);
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Unavailable, "the cluster could not take the message; retry"));
            return;
        }

        session.Send(JsonFrameCodec.Ok(frame.Id));
    }

    /// <summary>
    /// As <see cref="AcknowledgeAsync"/> for a keyed <c>send</c>/<c>pub</c>: <c>ok</c> with the assigned <c>seq</c>/<c>off</c>
    /// (and <c>dup</c> on a repeat), <c>err bad_request</c> for a key reused with other data.
    /// </summary>
    private async Task AcknowledgeOnceAsync(ClientSession session, ClientFrame frame, string what, bool channel, Task<Accepted> call)
    {
        Accepted accepted;
        try
        {
            accepted = await call;
        }
        catch (IdempotencyKeyReusedException)
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, KeyReused));
            return;
        }
        catch (Exception ex)
        {
            // Taken or not, a retry with the same key is answered once: the client can retry safely.
            Log.ClusterCallFailed(logger, ex, what, session.ClientId);
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Unavailable, "the cluster could not take the message; retry with the same key"));
            return;
        }

        session.Send(JsonFrameCodec.Accepted(frame.Id, channel, accepted.Position, accepted.Duplicate));
    }

    private static Task Reply(ClientSession session, byte[] frame)
    {
        session.Send(frame);
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Warning, "Cluster call for {Frame} from client {ClientId} failed", EventName = "ClusterCallFailed")]
        public static partial void ClusterCallFailed(ILogger logger, Exception exception, string frame, string clientId);

        [LoggerMessage(301, LogLevel.Warning, "Upstream broker refused an up frame from client {ClientId}", EventName = "UpstreamUnavailable")]
        public static partial void UpstreamUnavailable(ILogger logger, Exception exception, string clientId);

        [LoggerMessage(302, LogLevel.Warning, "A keyed up frame from client {ClientId} was produced but its key not recorded: a repeat may be produced again", EventName = "UpstreamKeyNotRecorded")]
        public static partial void UpstreamKeyNotRecorded(ILogger logger, Exception exception, string clientId);

        [LoggerMessage(303, LogLevel.Warning, "A subscribed/unsubscribed event of client {ClientId} could not be handed to its grain", EventName = "ChannelEventNotSent")]
        public static partial void ChannelEventNotSent(ILogger logger, Exception exception, string clientId);
    }
}
