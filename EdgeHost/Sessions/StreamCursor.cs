using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// A session's position in one ordered stream: its mailbox (<c>seq</c>) or one channel (<c>off</c>). Makes the
/// seam between replay and live traffic gap-free: live pushes that race the attach are held, duplicates are
/// dropped, and a gap (a lost or overtaken one-way push) is fetched from the grain before anything after it
/// is written. All methods run under the owner's lock (<see cref="ICursorOwner.Gate"/>: the streams' own, not the session's).
/// </summary>
/// <remarks>
/// Fetching and encoding go through the owner with <paramref name="channel"/> (null: the mailbox) instead of delegates:
/// two delegates and a closure per cursor were 150+ bytes per subscription and 64 per connection.
/// </remarks>
internal sealed class StreamCursor(ICursorOwner session, string? channel)
{
    private bool _live;
    private bool _repairing;
    private long _last;
    private List<StreamMessage>? _held;

    /// <summary>The last seq/off written to the session.</summary>
    public long Last => _last;

    /// <summary>True once <see cref="Start"/> ran (the welcome or <c>sub</c> reply is written).</summary>
    public bool IsLive => _live;

    /// <summary>Writes <paramref name="first"/> (<c>welcome</c> or the <c>sub</c> reply), the replay, then goes live.</summary>
    public void Start(byte[] first, StreamReplay result)
    {
        session.Send(first);
        foreach (var message in result.Replay)
        {
            session.Send(session.Encode(channel, message));
        }

        _last = result.Seq;
        _live = true;
        FlushHeld();
    }

    /// <summary>Live messages pushed to the edge; <paramref name="frames"/> holds each one encoded once per edge.</summary>
    public void Deliver(IReadOnlyList<StreamMessage> messages, byte[][] frames)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (!_live || _repairing)
            {
                Hold(message);
            }
            else if (message.Seq == _last + 1)
            {
                _last = message.Seq;
                session.Send(frames[i]);
            }
            else if (message.Seq > _last + 1)
            {
                Hold(message);
                StartRepair();
            }

            // message.Seq <= _last: a duplicate (replay and live overlapped): already written.
        }
    }

    /// <summary>
    /// Messages read from the grain again (a re-attach after a silo crash): those after <see cref="Last"/> go out as
    /// live ones would (in order, a gap repaired first); the rest are duplicates.
    /// </summary>
    public void CatchUp(IReadOnlyList<StreamMessage> replay)
    {
        var fresh = replay.Where(m => m.Seq > _last).ToArray();
        if (fresh.Length > 0)
        {
            Deliver(fresh, Array.ConvertAll(fresh, m => session.Encode(channel, m)));
        }
    }

    private void Hold(StreamMessage message)
    {
        (_held ??= []).Add(message);
        if (_held.Count > session.OutboxCapacity)
        {
            session.OverflowHeld();
        }
    }

    private void FlushHeld()
    {
        if (_held is not { Count: > 0 } held)
        {
            return;
        }

        held.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
        var used = 0;
        foreach (var message in held)
        {
            if (message.Seq > _last + 1)
            {
                break;
            }

            if (message.Seq == _last + 1)
            {
                _last = message.Seq;
                session.Send(session.Encode(channel, message));
            }

            used++;
        }

        held.RemoveRange(0, used);
        if (held.Count > 0)
        {
            StartRepair();
        }
    }

    private void StartRepair()
    {
        if (!_repairing && !session.IsClosing)
        {
            _repairing = true;
            _ = RepairAsync(_last);
        }
    }

    private async Task RepairAsync(long after)
    {
        StreamReplay result;
        try
        {
            result = await session.FetchSinceAsync(channel, after);
        }
        catch (Exception ex)
        {
            session.RepairFailed(ex);
            return;
        }

        lock (session.Gate)
        {
            _repairing = false;
            foreach (var message in result.Replay)
            {
                if (message.Seq == _last + 1)
                {
                    _last = message.Seq;
                    session.Send(session.Encode(channel, message));
                }
            }

            if (!result.Recovered || _last < result.Seq)
            {
                // The gap already left retention: end the session; on resume the client learns recovered:false.
                session.RepairFailed(null);
                return;
            }

            FlushHeld();
        }
    }
}

/// <summary>What a <see cref="StreamCursor"/> needs from its owner (<see cref="SessionStreams"/>).</summary>
internal interface ICursorOwner
{
    /// <summary>The lock every cursor method runs under.</summary>
    object Gate { get; }

    /// <summary>Reads the stream (<paramref name="channel"/>, or the mailbox when null) after <paramref name="after"/> again.</summary>
    Task<StreamReplay> FetchSinceAsync(string? channel, long after);

    /// <summary>Encodes one message of the stream as the frame the client gets.</summary>
    byte[] Encode(string? channel, StreamMessage message);

    bool IsClosing { get; }

    int OutboxCapacity { get; }

    bool Send(byte[] frame);

    /// <summary>Held messages outgrew the outbox: close as a slow consumer.</summary>
    void OverflowHeld();

    /// <summary>A gap could not be repaired: close so the client resumes.</summary>
    void RepairFailed(Exception? exception);
}
