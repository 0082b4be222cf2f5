using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// Acts on one parsed client frame. Frames of a session are handled one at a time, in order: that is what
/// keeps one sender's messages to one recipient in send order (PROTOCOL.md, Guarantees §1).
/// </summary>
internal sealed partial class FrameDispatcher(IGrainFactory grains, ILogger<FrameDispatcher> logger)
{
    public async Task DispatchAsync(ClientSession session, ClientFrame frame)
    {
        switch (frame.Type)
        {
            case ClientFrameType.Ping:
                session.Send(JsonFrameCodec.Pong(frame.Id));
                break;
            case ClientFrameType.Send:
                await SendAsync(session, frame);
                break;
            default:
                session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, $"frame type not supported by this edge"));
                break;
        }
    }

    private async Task SendAsync(ClientSession session, ClientFrame frame)
    {
        if (!ClientIds.IsValid(frame.To))
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, "to must be 1-128 chars of [A-Za-z0-9._:@-]"));
            return;
        }

        try
        {
            await grains.GetGrain<IClientGrain>(frame.To!).SendAsync(session.ClientId, frame.Data!);
        }
        catch (Exception ex)
        {
            // Not acknowledged, so nothing is lost: the client learns it must retry.
            Log.ClusterCallFailed(logger, ex, "send", session.ClientId);
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Unavailable, "the cluster could not take the message; retry"));
            return;
        }

        session.Send(JsonFrameCodec.Ok(frame.Id));
    }

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Warning, "Cluster call for {Frame} from client {ClientId} failed", EventName = "ClusterCallFailed")]
        public static partial void ClusterCallFailed(ILogger logger, Exception exception, string frame, string clientId);
    }
}
