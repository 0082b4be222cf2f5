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
    public async Task Complete_AnswerForTheTicket_TaskGetsItAndTheTicketIsGone()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var (ticket, answer) = tickets.Issue();

        tickets.Complete(new SendAck(ticket.Id, SendOutcome.Duplicate, 12));

        Assert.Equal(new SendAck(ticket.Id, SendOutcome.Duplicate, 12), await answer);
        Assert.Equal("edge-1", ticket.EdgeId);
        Assert.Equal(0, tickets.Count);
    }

    [Fact]
    public void Issue_TwoSends_DistinctTickets()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);

        Assert.NotEqual(tickets.Issue().Ticket.Id, tickets.Issue().Ticket.Id);
        Assert.Equal(2, tickets.Count);
    }

    [Fact]
    public async Task Sweep_NoAnswerWithinTheTimeout_TimeoutExceptionAndALateAnswerIgnored()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var (ticket, answer) = tickets.Issue();

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(answer.IsCompleted); // the timer ran (a fifth of the timeout) but the deadline had not come

        _time.Advance(TimeSpan.FromSeconds(1)); // the next sweep after the deadline
        await Assert.ThrowsAsync<TimeoutException>(() => answer);
        Assert.Equal(0, tickets.Count);

        tickets.Complete(new SendAck(ticket.Id, SendOutcome.Accepted, 1)); // the answer after the edge gave up
        Assert.Equal(0, tickets.Count);
    }

    [Fact]
    public async Task Sweep_OneAnsweredOneNot_OnlyTheUnansweredTimesOut()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var (first, answered) = tickets.Issue();
        var (_, unanswered) = tickets.Issue();
        tickets.Complete(new SendAck(first.Id, SendOutcome.Accepted, 3));

        _time.Advance(Timeout + TimeSpan.FromSeconds(1));

        Assert.Equal(3, (await answered).Seq);
        await Assert.ThrowsAsync<TimeoutException>(() => unanswered);
    }

    [Fact]
    public async Task Fail_CallCouldNotLeave_TaskFailsAtOnceWithThatException()
    {
        using var tickets = new SendTickets("edge-1", Timeout, _time);
        var (ticket, answer) = tickets.Issue();

        tickets.Fail(ticket.Id, new InvalidOperationException("not connected"));

        Assert.Equal("not connected", (await Assert.ThrowsAsync<InvalidOperationException>(() => answer)).Message);
        Assert.Equal(0, tickets.Count);
    }

    [Fact]
    public async Task Dispose_TicketsWaiting_FailedNotLeftHanging()
    {
        var tickets = new SendTickets("edge-1", Timeout, _time);
        var (_, answer) = tickets.Issue();

        tickets.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => answer);
    }
}
