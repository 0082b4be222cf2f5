using System.Text;
using System.Text.Json;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Events;

public sealed class LifecycleEventJsonTests
{
    public static TheoryData<LifecycleEvent> Events() => new()
    {
        new LifecycleEvent(LifecycleEventKinds.Connected, "alice", "edge-1", 7, 1_700_000_000_000) { Resumed = true, Recovered = false },
        new LifecycleEvent(LifecycleEventKinds.Disconnected, "alice", "edge-1", 7, 1_700_000_000_001) { Reason = "slow_consumer", Code = 1013 },
        new LifecycleEvent(LifecycleEventKinds.Disconnected, "alice", "edge-1", 7, 1_700_000_000_001) { Reason = LifecycleEventReasons.EdgeLost },
        new LifecycleEvent(LifecycleEventKinds.Subscribed, "alice", "edge-1", 7, 1_700_000_000_002) { Channel = "room:lobby" },
        new LifecycleEvent(LifecycleEventKinds.Unsubscribed, "alice", "edge-1", 7, 1_700_000_000_003) { Channel = "room:lobby" },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void ToUtf8_EveryKind_ReadsBackEqual(LifecycleEvent e)
    {
        Assert.True(LifecycleEventJson.TryRead(LifecycleEventJson.ToUtf8(e), out var read));
        Assert.Equal(e, read);
    }

    [Fact]
    public void ToUtf8_Connected_DocumentedShape()
    {
        var e = new LifecycleEvent(LifecycleEventKinds.Connected, "alice", "edge-1", 7, 1700000000000) { Resumed = true, Recovered = true };
        Assert.Equal(
            """{"v":1,"t":"connected","client":"alice","edge":"edge-1","session":7,"at":1700000000000,"resumed":true,"recovered":true}""",
            Encoding.UTF8.GetString(LifecycleEventJson.ToUtf8(e)));
    }

    [Fact]
    public void ToUtf8_Disconnected_DocumentedShape()
    {
        var e = new LifecycleEvent(LifecycleEventKinds.Disconnected, "alice", "edge-1", 7, 1700000000000) { Reason = "normal", Code = 1000 };
        Assert.Equal(
            """{"v":1,"t":"disconnected","client":"alice","edge":"edge-1","session":7,"at":1700000000000,"reason":"normal","code":1000}""",
            Encoding.UTF8.GetString(LifecycleEventJson.ToUtf8(e)));
    }

    [Fact]
    public void TryRead_UnknownFields_Ignored()
    {
        var json = """{"v":1,"t":"subscribed","future":{"a":[1,2]},"client":"bob","edge":"e","session":1,"at":2,"ch":"c"}"""u8;
        Assert.True(LifecycleEventJson.TryRead(json, out var e));
        Assert.Equal("c", e!.Channel);
    }

    [Theory]
    [InlineData("""{"v":2,"t":"connected","client":"bob","edge":"e","session":1,"at":2}""")]
    [InlineData("""{"v":1,"t":"renamed","client":"bob","edge":"e","session":1,"at":2}""")]
    [InlineData("""{"v":1,"t":"connected","edge":"e","session":1,"at":2}""")]
    public void TryRead_OtherVersionUnknownKindOrMissingField_False(string json) =>
        Assert.False(LifecycleEventJson.TryRead(Encoding.UTF8.GetBytes(json), out _));

    [Fact]
    public void TryRead_NotAnObject_Throws() =>
        Assert.ThrowsAny<JsonException>(() => LifecycleEventJson.TryRead("[1]"u8, out _));
}
