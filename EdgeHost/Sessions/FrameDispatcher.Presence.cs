using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>The <c>presence</c> frame: who is on a channel.</summary>
internal sealed partial class FrameDispatcher
{
    /// <summary>A page of the channel's members; the same channel permission as <c>sub</c>.</summary>
    private async Task PresenceAsync(ClientSession session, ClientFrame frame)
    {
        if (!CheckChannel(session, frame))
        {
            return;
        }

        if (frame.After is not null && !ClientIds.IsValid(frame.After))
        {
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.BadRequest, "after must be a client id (the previous page's next)"));
            return;
        }

        ChannelMembers members;
        try
        {
            members = await grains.Members(frame.Channel!).GetMembersAsync(frame.After, PresencePageSize);
        }
        catch (Exception ex)
        {
            Log.ClusterCallFailed(logger, ex, "presence", session.ClientId);
            session.Send(JsonFrameCodec.Error(frame.Id, ErrorCodes.Unavailable, "the cluster could not answer; retry"));
            return;
        }

        session.Send(JsonFrameCodec.PresenceOk(frame.Id, members));
    }
}
