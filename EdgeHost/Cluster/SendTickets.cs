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
    private readonly ConcurrentDictionary<long, PendingSend> _waiting = new();
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

    /// <summary>Sends waiting now.</summary>
    public int Count => _waiting.Count;

    /// <summary>
    /// Numbers <paramref name="send"/> and waits for its answer (or <see cref="Timeout"/>); the number goes with the
    /// one-way call (<see cref="IClientSessionGrain.SendOneWayAsync"/>).
    /// </summary>
    public long Issue(PendingSend send)
    {
        var id = Interlocked.Increment(ref _next);
        send.Deadline = _time.GetTimestamp() + _timeoutTicks;
        _waiting[id] = send;
        return id;
    }

    /// <summary>This edge's id: where silos send the answers.</summary>
    public string EdgeId => _edgeId;

    /// <summary>An answer arrived: completes its ticket. An answer for a ticket that timed out (or is unknown) is ignored.</summary>
    public void Complete(SendAck ack)
    {
        if (_waiting.TryRemove(ack.Ticket, out var send))
        {
            send.Answer(ack);
        }
    }

    /// <summary>The one-way call could not even be sent: the ticket fails at once.</summary>
    public void Fail(long ticket, Exception exception)
    {
        if (_waiting.TryRemove(ticket, out var send))
        {
            send.NoAnswer(exception);
        }
    }

    /// <summary>Fails every ticket past its deadline. Called by the timer (tests drive it through a fake clock).</summary>
    internal void Sweep()
    {
        if (_waiting.IsEmpty)
        {
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var (id, send) in _waiting)
        {
            if (send.Deadline <= now && _waiting.TryRemove(id, out _))
            {
                send.NoAnswer(new TimeoutException($"No answer to the send within {Timeout.TotalSeconds:0.###} s."));
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
}

/// <summary>
/// One send waiting for its answer: what to do with the answer or its absence, and a task that completes once either
/// was handled (the session handles its frames one at a time and awaits it). One object per send, with no async state
/// machine or answer task besides: this is on the path of every direct message.
/// </summary>
internal abstract class PendingSend() : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
{
    /// <summary>When it times out (a <see cref="TimeProvider"/> timestamp); set by <see cref="SendTickets.Issue"/>.</summary>
    public long Deadline { get; set; }

    public void Answer(SendAck ack)
    {
        try
        {
            OnAnswer(ack);
        }
        finally
        {
            TrySetResult();
        }
    }

    public void NoAnswer(Exception exception)
    {
        try
        {
            OnNoAnswer(exception);
        }
        finally
        {
            TrySetResult();
        }
    }

    protected abstract void OnAnswer(SendAck ack);

    /// <summary>No answer within the timeout, or the call could not be sent: taken or not is unknown.</summary>
    protected abstract void OnNoAnswer(Exception exception);
}
