using System.Threading.Tasks.Sources;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// A session's bounded queue of encoded frames, read only by its send loop. Writers never wait: a full
/// outbox means the client reads slower than it is sent to, and the session is closed as a slow consumer
/// rather than slowing the fan-out for everyone else.
/// </summary>
/// <remarks>
/// Replaces a bounded <c>System.Threading.Channels</c> channel, which cost every idle connection its reader, writer,
/// queue, completion task and a waiter registered with a cancellation token, and cost every wake-up a new waiter and
/// a token registration. Here an idle outbox holds no storage: the oldest frame sits in one field and a ring is
/// allocated only while more than one frame waits. The one reader waits on a reused value-task source. All state is
/// guarded by the owning session's lock, which the delivery path already holds, so a delivery takes one lock, not two.
/// </remarks>
internal sealed class SessionOutbox : IValueTaskSource<bool>
{
    /// <summary>A ring longer than this is dropped when the outbox empties, so a burst does not pin memory.</summary>
    private const int KeptRingLength = 4;

    private readonly object _gate;
    private readonly int _capacity;
    private byte[]? _first;
    private byte[][]? _ring;
    private int _ringHead;
    private int _ringCount;
    private bool _completed;
    private bool _waiting;
    private ManualResetValueTaskSourceCore<bool> _waiter;

    public SessionOutbox(int capacity, object gate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _gate = gate;

        // Like the channel it replaces: the send loop never runs inline on a writer's (delivering) thread.
        _waiter.RunContinuationsAsynchronously = true;
    }

    /// <summary>Frames waiting.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return (_first is null ? 0 : 1) + _ringCount;
            }
        }
    }

    /// <summary>True once completed and emptied: the reader will get nothing more.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _completed && _first is null;
            }
        }
    }

    /// <summary>False when full or completed.</summary>
    public bool TryWrite(byte[] frame)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            if (_first is null)
            {
                _first = frame; // the ring is empty whenever _first is: _first is always the oldest frame
            }
            else
            {
                if (1 + _ringCount >= _capacity)
                {
                    return false;
                }

                Enqueue(frame);
            }

            WakeReader(true);
            return true;
        }
    }

    /// <summary>No more writes; the reader gets what is queued, then false from <see cref="WaitToReadAsync"/>.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (!_completed)
            {
                _completed = true;
                WakeReader(_first is not null);
            }
        }
    }

    /// <summary>Takes the oldest frame. Reader only.</summary>
    public bool TryRead(out byte[] frame)
    {
        lock (_gate)
        {
            if (_first is not { } first)
            {
                frame = null!;
                return false;
            }

            frame = first;
            if (_ringCount == 0)
            {
                _first = null;
                if (_ring is { Length: > KeptRingLength })
                {
                    _ring = null;
                    _ringHead = 0;
                }
            }
            else
            {
                _first = _ring![_ringHead];
                _ring[_ringHead] = null!;
                _ringHead = (_ringHead + 1) % _ring.Length;
                _ringCount--;
            }

            return true;
        }
    }

    /// <summary>True when a frame can be read; false once completed and empty. One reader, one wait at a time.</summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_gate)
        {
            if (_first is not null)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            if (_waiting)
            {
                throw new InvalidOperationException("The outbox has one reader, and it is already waiting.");
            }

            _waiter.Reset();
            _waiting = true;
            return new ValueTask<bool>(this, _waiter.Version);
        }
    }

    private void Enqueue(byte[] frame)
    {
        if (_ring is null)
        {
            _ring = new byte[Math.Min(KeptRingLength, _capacity)][];
            _ringHead = 0;
        }
        else if (_ringCount == _ring.Length)
        {
            var larger = new byte[Math.Min(_ring.Length * 2, _capacity)][];
            for (var i = 0; i < _ringCount; i++)
            {
                larger[i] = _ring[(_ringHead + i) % _ring.Length];
            }

            _ring = larger;
            _ringHead = 0;
        }

        _ring[(_ringHead + _ringCount) % _ring.Length] = frame;
        _ringCount++;
    }

    /// <summary>Under <see cref="_gate"/>; the continuation is queued, never run here.</summary>
    private void WakeReader(bool readable)
    {
        if (_waiting)
        {
            _waiting = false;
            _waiter.SetResult(readable);
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _waiter.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _waiter.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _waiter.OnCompleted(continuation, state, token, flags);
}
