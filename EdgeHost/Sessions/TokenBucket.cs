namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// A token bucket on <see cref="TimeProvider"/> timestamps: <c>rate</c> tokens per second, up to <c>burst</c>.
/// Not thread-safe: one per session (used only by its receive loop), or guarded by the caller.
/// </summary>
internal sealed class TokenBucket
{
    private readonly double _rate;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public TokenBucket(double rate, double burst, TimeProvider time)
    {
        _rate = rate;
        _burst = burst;
        _time = time;
        _tokens = burst;
        _last = time.GetTimestamp();
    }

    /// <summary>True when the bucket has refilled to its burst (it is then the same as a new one).</summary>
    public bool IsFull
    {
        get
        {
            Refill();
            return _tokens >= _burst;
        }
    }

    /// <summary>True when <paramref name="cost"/> tokens are available; takes nothing.</summary>
    public bool CanTake(double cost)
    {
        Refill();
        return _tokens >= cost;
    }

    /// <summary>Takes <paramref name="cost"/> tokens if available.</summary>
    public bool TryTake(double cost = 1)
    {
        Refill();
        if (_tokens < cost)
        {
            return false;
        }

        _tokens -= cost;
        return true;
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
        _last = now;
    }
}
