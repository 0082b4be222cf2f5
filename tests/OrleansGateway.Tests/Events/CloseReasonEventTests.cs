using OrleansGateway.EdgeHost.Protocol;

namespace OrleansGateway.Tests.Events;

public sealed class CloseReasonEventTests
{
    [Fact]
    public void EventReason_EveryCloseReason_ByeCodeOrSnakeCaseName()
    {
        Assert.Equal("normal", CloseReason.Normal.EventReason);
        Assert.Equal("frame_too_large", CloseReason.FrameTooLarge.EventReason);
        Assert.Equal("draining", CloseReason.Draining.EventReason);
        Assert.Equal("slow_consumer", CloseReason.SlowConsumer.EventReason);
        Assert.Equal("token_expired", CloseReason.TokenExpired.EventReason);
        Assert.Equal("policy", CloseReason.Policy.EventReason);
        Assert.Equal("replaced", CloseReason.Replaced.EventReason);
        Assert.Equal("try_again_later", CloseReason.TryAgainLater.EventReason);
        Assert.Equal("too_many_sessions", CloseReason.TooManySessions.EventReason);
    }
}
