using System.Text;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Protocol;

public sealed class PresenceFrameTests
{
    private static bool Parse(string json, out ClientFrame? frame, out FrameError error) =>
        JsonFrameCodec.TryParse(Encoding.UTF8.GetBytes(json), out frame, out error);

    [Fact]
    public void TryParse_Presence_ReadsChannelAndAfter()
    {
        Assert.True(Parse("""{"t":"presence","id":"1","ch":"room","after":"bob"}""", out var frame, out _));
        Assert.Equal(ClientFrameType.Presence, frame!.Type);
        Assert.Equal("room", frame.Channel);
        Assert.Equal("bob", frame.After);
    }

    [Fact]
    public void TryParse_PresenceWithoutChannel_BadRequest()
    {
        Assert.False(Parse("""{"t":"presence","id":"1"}""", out _, out var error));
        Assert.Equal(("1", ErrorCodes.BadRequest, "missing ch"), (error.Id, error.Code, error.Message));
    }

    [Fact]
    public void TryParse_SubWithPresence_ReadsFlag()
    {
        Assert.True(Parse("""{"t":"sub","ch":"room","presence":true}""", out var frame, out _));
        Assert.True(frame!.Presence);
    }

    [Theory]
    [InlineData("""{"t":"sub","ch":"room","presence":"yes"}""")]
    [InlineData("""{"t":"sub","ch":"room","presence":1}""")]
    [InlineData("""{"t":"sub","ch":"room","presence":true,"presence":true}""")]
    [InlineData("""{"t":"presence","ch":"room","after":5}""")]
    public void TryParse_BadPresenceFields_BadRequest(string json)
    {
        Assert.False(Parse(json, out _, out var error));
        Assert.Equal(ErrorCodes.BadRequest, error.Code);
    }

    [Fact]
    public void PresenceOk_WritesMembersTotalAndNext()
    {
        var json = Encoding.UTF8.GetString(JsonFrameCodec.PresenceOk("7", new ChannelMembers(3, [new ChannelMember("alice", 2)], "alice")));
        Assert.Equal("""{"t":"ok","id":"7","total":3,"members":[{"client":"alice","sessions":2}],"next":"alice"}""", json);
    }

    [Fact]
    public void PresenceChange_WritesJoinAndLeave()
    {
        Assert.Equal("""{"t":"join","ch":"room","client":"a"}""", Encoding.UTF8.GetString(JsonFrameCodec.PresenceChange("room", new PresenceChange("a", true))));
        Assert.Equal("""{"t":"leave","ch":"room","client":"a"}""", Encoding.UTF8.GetString(JsonFrameCodec.PresenceChange("room", new PresenceChange("a", false))));
    }
}
