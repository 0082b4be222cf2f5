using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Protocol;

/// <summary>The server frames of channel presence (docs/protocol.md, Presence).</summary>
internal static partial class JsonFrameCodec
{
    /// <summary>The <c>ok</c> of a <c>presence</c> frame: a page of members, the total and, unless last, <c>next</c>.</summary>
    public static byte[] PresenceOk(string? id, ChannelMembers members) => Write(
        (id, members),
        static (w, s) =>
        {
            w.WriteString("t"u8, "ok"u8);
            WriteId(w, s.id);
            w.WriteNumber("total"u8, s.members.Total);
            w.WriteStartArray("members"u8);
            foreach (var member in s.members.Members)
            {
                w.WriteStartObject();
                w.WriteString("client"u8, member.ClientId);
                w.WriteNumber("sessions"u8, member.Sessions);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (s.members.Next is { } next)
            {
                w.WriteString("next"u8, next);
            }
        });

    /// <summary><c>join</c> or <c>leave</c> of one client on one channel.</summary>
    public static byte[] PresenceChange(string channel, PresenceChange change) => Write(
        (channel, change),
        static (w, s) =>
        {
            w.WriteString("t"u8, s.change.Joined ? "join"u8 : "leave"u8);
            w.WriteString("ch"u8, s.channel);
            w.WriteString("client"u8, s.change.ClientId);
        });
}
