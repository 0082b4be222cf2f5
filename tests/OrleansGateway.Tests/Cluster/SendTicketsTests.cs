using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Cluster;

/// <summary>The edge's table of one-way sends waiting for their answer: what Orleans' response timeout did per call, per ticket.</summary>
public sealed class SendTicketsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Complete_AnswerForTheTicket_HandledOnceAndTheTicketIsGone()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var send = new RecordingSend();
        var ticket = tickets.Issue(send);

        tickets.Complete(new SendAck(ticket, SendOutcome.Duplicate, 12));
        tickets.Complete(new SendAck(ticket, SendOutcome.Accepted, 13)); // a repeat of the answer

        await send.Task;
        Assert.Equal(["answer Duplicate 12"], send.Seen);
        Assert.Equal("edge-1", tickets.EdgeId);
        Assert.Equal(0, tickets.Count);
    }

    [Fact]
    public void Issue_TwoSends_DistinctTickets()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);

        Assert.NotEqual(tickets.Issue(new RecordingSend()), tickets.Issue(new RecordingSend()));
        Assert.Equal(2, tickets.Count);
    }

    [Fact]
    public async Task Sweep_NoAnswerWithinTheTimeout_TimedOutAndALateAnswerIgnored()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var send = new RecordingSend();
        var ticket = tickets.Issue(send);

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(send.Task.IsCompleted); // the timer ran (a fifth of the timeout) but the deadline had not come

        _time.Advance(TimeSpan.FromSeconds(1)); // the next sweep after the deadline
        await send.Task;
        tickets.Complete(new SendAck(ticket, SendOutcome.Accepted, 1)); // the answer after the edge gave up

        Assert.Equal(["no answer TimeoutException"], send.Seen);
        Assert.Equal(0, tickets.Count);
    }

    [Fact]
    public async Task Sweep_OneAnsweredOneNot_OnlyTheUnansweredTimesOut()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var answered = new RecordingSend();
        var unanswered = new RecordingSend();
        var first = tickets.Issue(answered);
        tickets.Issue(unanswered);
        tickets.Complete(new SendAck(first, SendOutcome.Accepted, 3));

        _time.Advance(Timeout + TimeSpan.FromSeconds(1));

        await Task.WhenAll(answered.Task, unanswered.Task);
        Assert.Equal(["answer Accepted 3"], answered.Seen);
        Assert.Equal(["no answer TimeoutException"], unanswered.Seen);
    }

    [Fact]
    public async Task Fail_CallCouldNotLeave_NoAnswerAtOnceWithThatException()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var send = new RecordingSend();
        var ticket = tickets.Issue(send);

        tickets.Fail(ticket, new InvalidOperationException("not connected"));

        await send.Task;
        Assert.Equal(["no answer InvalidOperationException"], send.Seen);
        Assert.Equal(0, tickets.Count);
    }

    [Fact]
    public async Task Dispose_SendsWaiting_ToldNoAnswerNotLeftHanging()
    {
        var tickets = new SendTickets("edge-1", Timeout, _time);
        var send = new RecordingSend();
        tickets.Issue(send);

        tickets.Dispose();

        await send.Task;
        Assert.Equal(["no answer ObjectDisposedException"], send.Seen);
    }

    [Fact]
    public async Task Answer_HandlerThrows_TaskStillCompletes()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var send = new RecordingSend { Throw = true };
        var ticket = tickets.Issue(send);

        Assert.Throws<InvalidOperationException>(() => tickets.Complete(new SendAck(ticket, SendOutcome.Accepted, 1)));

        await send.Task; // the session's next frame is not held behind a failed reply
    }

    private sealed class RecordingSend : PendingSend
    {
        public List<string> Seen { get; } = [];

        public bool Throw { get; init; }

        protected override void OnAnswer(SendAck ack)
        {
            Seen.Add($"answer {ack.Outcome} {ack.Seq}");
            if (Throw)
            {
                throw new InvalidOperationException("session gone");
            }
        }

        protected override void OnNoAnswer(Exception exception) => Seen.Add($"no answer {exception.GetType().Name}");
    }
}
