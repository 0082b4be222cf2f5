using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Cluster;

/// <summary>
/// The edge's one-way <c>send</c>s waiting for their answer (<see cref="SendAck"/>), which silos queue on their push to
/// this edge instead of sending a response per call (docs/benchmarks.md, "Orleans messages per direct message").
/// What Orleans' response timeout did for a call, the table does for a ticket: one not answered within
/// <see cref="EdgeOptions.CallTimeout"/> fails with a <see cref="TimeoutException"/>, which the session answers
/// <c>err unavailable</c> (the send may or may not have been taken: the same ambiguity as a lost response).
/// One timer per edge sweeps the table; no timer or cancellation registration per send.
/// </summary>
internal sealed class SendTickets : IDisposable
{
    private readonly ConcurrentDictionary<long, Waiting> _waiting = new();
    private readonly string _edgeId;
    private readonly TimeProvider _time;
    private readonly long _timeoutTicks;
    private readonly ITimer _sweep;
    private long _next;

    public SendTickets(LocalEdge edge, IOptions<EdgeOptions> options, TimeProvider time)
        : this(edge.EdgeId, options.Value.CallTimeout, time)
    {
    }

    internal SendTickets(string edgeId, TimeSpan timeout, TimeProvider time)
    {
        _edgeId = edgeId;
        _time = time;
        _timeoutTicks = (long)(timeout.TotalSeconds * time.TimestampFrequency);
        Timeout = timeout;

        // A fifth of the timeout, within [50 ms, 1 s]: a send times out at most that much late, as with Orleans' own
        // response-timeout check (once a second).
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 5, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _sweep = time.CreateTimer(static state => ((SendTickets)state!).Sweep(), this, period, period);
    }

    /// <summary>How long a ticket waits for its answer.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Tickets waiting now.</summary>
    public int Count => _waiting.Count;

    /// <summary>A new ticket and the task its answer completes (continuations run asynchronously, off the push).</summary>
    public (SendTicket Ticket, Task<SendAck> Answer) Issue()
    {
        var id = Interlocked.Increment(ref _next);
        var waiting = new Waiting(_time.GetTimestamp() + _timeoutTicks);
        _waiting[id] = waiting;
        return (new SendTicket(_edgeId, id), waiting.Task);
    }

    /// <summary>An answer arrived: completes its ticket. An answer for a ticket that timed out (or is unknown) is ignored.</summary>
    public void Complete(SendAck ack)
    {
        if (_waiting.TryRemove(ack.Ticket, out var waiting))
        {
            waiting.TrySetResult(ack);
        }
    }

    /// <summary>The one-way call could not even be sent: the ticket fails at once.</summary>
    public void Fail(long ticket, Exception exception)
    {
        if (_waiting.TryRemove(ticket, out var waiting))
        {
            waiting.TrySetException(exception);
        }
    }

    /// <summary>Fails every ticket past its deadline. Called by the timer; public for tests that drive the clock.</summary>
    internal void Sweep()
    {
        if (_waiting.IsEmpty)
        {
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var (id, waiting) in _waiting)
        {
            if (waiting.Deadline <= now && _waiting.TryRemove(id, out _))
            {
                waiting.TrySetException(new TimeoutException($"No answer to the send within {Timeout.TotalSeconds:0.###} s."));
            }
        }
    }

    public void Dispose()
    {
        _sweep.Dispose();
        foreach (var id in _waiting.Keys)
        {
            Fail(id, new ObjectDisposedException(nameof(SendTickets), "The edge is stopping."));
        }
    }

    /// <summary>A waiting send: its answer's task and when it times out (a <see cref="TimeProvider"/> timestamp).</summary>
    private sealed class Waiting(long deadline) : TaskCompletionSource<SendAck>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long Deadline { get; } = deadline;
    }
}
