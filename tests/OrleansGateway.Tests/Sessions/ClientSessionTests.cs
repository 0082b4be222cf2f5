using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Protocol;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.Tests.Sessions;

/// <summary>The session's close state machine and outbox, without a socket or a cluster.</summary>
public sealed class ClientSessionTests
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();
    private readonly FakeTransport _transport = new();

    private ClientSession Create(int outboxCapacity = 8)
    {
        // Only what the close state machine touches is real; the cluster parts are not reached by these tests.
        var services = new SessionServices(
            Grains: null!,
            Calls: null!,
            History: null!,
            Channels: null!,
            Registry: null!,
            Budgets: null!,
            Edge: null!,
            Metrics: new EdgeMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>()),
            Time: _time,
            TokenClockSkew: TimeSpan.Zero,
            Options: new EdgeOptions { OutboxCapacity = outboxCapacity, CloseTimeout = CloseTimeout },
            Limits: new LimitsOptions(),
            Logger: NullLogger<ClientSession>.Instance);
        return new ClientSession(1, new ClientIdentity("alice", [], DateTimeOffset.MaxValue), _transport, services);
    }

    private static List<string> Queued(ClientSession session)
    {
        var frames = new List<string>();
        while (session.Outbox.TryRead(out var frame))
        {
            frames.Add(Encoding.UTF8.GetString(frame));
        }

        return frames;
    }

    [Fact]
    public void RequestClose_WhileAFrameIsDispatched_ReplyQueuedBeforeBye()
    {
        var session = Create();
        Assert.True(session.TryBeginDispatch());

        session.RequestClose(CloseReason.Draining, reconnectMs: 100);
        session.Send("reply"u8.ToArray());
        Assert.Equal(["reply"], Queued(session)); // the bye waits for the frame being handled
        session.EndDispatch();

        var rest = Queued(session);
        Assert.Single(rest);
        Assert.Contains("\"bye\"", rest[0]);
        Assert.Contains("draining", rest[0]);
        Assert.True(session.Outbox.IsCompleted);
    }

    [Fact]
    public void TryBeginDispatch_SessionClosing_FalseSoTheFrameIsNeverAcknowledged()
    {
        var session = Create();
        session.RequestClose(CloseReason.Draining);

        Assert.False(session.TryBeginDispatch());
    }

    [Fact]
    public void RequestClose_CalledTwice_OneByeAndTheFirstReasonKept()
    {
        var session = Create();

        session.RequestClose(CloseReason.Draining, reconnectMs: 10);
        session.RequestClose(CloseReason.TokenExpired);

        var queued = Queued(session);
        Assert.Single(queued);
        Assert.Contains("draining", queued[0]);
        Assert.Same(CloseReason.Draining, session.CurrentCloseReason);
        Assert.True(session.IsClosing);
    }

    [Fact]
    public void RequestClose_AlreadyClosingOrEnded_FalseOnlyTheCallThatStartedTheCloseIsTrue()
    {
        var dispatching = Create();
        Assert.True(dispatching.TryBeginDispatch());
        Assert.True(dispatching.RequestClose(CloseReason.Draining)); // started, its bye deferred behind the reply
        Assert.False(dispatching.RequestClose(CloseReason.Draining));

        var left = Create();
        Assert.True(left.RequestClose(CloseReason.Normal, abandonQueued: true)); // the client left: no bye
        Assert.False(left.RequestClose(CloseReason.Draining, reconnectMs: 1)); // so this call got it none either
        Assert.DoesNotContain(Queued(left), f => f.Contains("draining", StringComparison.Ordinal));
    }

    [Fact]
    public void Send_OutboxFull_ClosedAsSlowConsumerSkippingQueuedFrames()
    {
        var session = Create(outboxCapacity: 2);
        Assert.True(session.Send("1"u8.ToArray()));
        Assert.True(session.Send("2"u8.ToArray()));

        Assert.False(session.Send("3"u8.ToArray()));

        Assert.Same(CloseReason.SlowConsumer, session.CurrentCloseReason);
        Assert.True(session.AbandonQueued);
        Assert.Contains("slow_consumer", Encoding.UTF8.GetString(session.FinalBye!));
        Assert.False(session.Send("4"u8.ToArray())); // completed: nothing more is queued
    }

    [Fact]
    public void RequestClose_SendLoopStillWritingAfterCloseTimeout_TransportAborted()
    {
        var session = Create();
        session.RequestClose(CloseReason.Draining);

        _time.Advance(CloseTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, _transport.Aborts);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(1, _transport.Aborts);
    }

    [Fact]
    public void RequestClose_SendLoopEndedInTime_TransportNotAborted()
    {
        var session = Create();
        session.RequestClose(CloseReason.Draining);

        session.SendEnded();
        _time.Advance(CloseTimeout * 2);

        Assert.Equal(0, _transport.Aborts);
    }

    [Fact]
    public void RequestClose_SessionEndedAlready_Ignored()
    {
        var session = Create();
        session.RequestClose(CloseReason.Normal);
        Queued(session);

        session.RequestClose(CloseReason.Draining, reconnectMs: 1);

        Assert.Empty(Queued(session));
        Assert.Same(CloseReason.Normal, session.CurrentCloseReason);
    }

    private sealed class FakeTransport : ISessionTransport
    {
        private int _aborts;

        public int Aborts => Volatile.Read(ref _aborts);

        public void Abort() => Interlocked.Increment(ref _aborts);
    }
}
