using OrleansGateway.Grains.Edges;

namespace OrleansGateway.Grains.MessageLogs;

/// <summary>
/// A sequence-numbered message log with retention by count and age. Pure data structure: no Orleans,
/// time from <see cref="TimeProvider"/>, so it is tested on its own.
/// </summary>
internal sealed class MessageLog
{
    // Null while nothing is retained: most idle clients have no message within retention, and a queue that once
    // held many keeps its grown array (memory per idle client grain, docs/benchmarks.md).
    private Queue<StreamMessage>? _retained;
    private readonly int _maxMessages;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _time;
    private long _seq;

    public MessageLog(int maxMessages, TimeSpan maxAge, TimeProvider time, MessageLogSnapshot? snapshot = null)
    {
        _maxMessages = maxMessages;
        _maxAge = maxAge;
        _time = time;
        if (snapshot is not null)
        {
            _seq = snapshot.Seq;
            if (snapshot.Messages.Length > 0)
            {
                _retained = new Queue<StreamMessage>(snapshot.Messages);
            }

            Trim();
        }
    }

    /// <summary>The last seq assigned; 0 when the mailbox is new.</summary>
    public long Seq => _seq;

    public int Count => _retained?.Count ?? 0;

    public StreamMessage Append(string from, byte[] data)
    {
        var message = new StreamMessage(_seq + 1, from, data, _time.GetUtcNow().ToUnixTimeMilliseconds()) { TraceParent = GrainTracing.CurrentTraceParent() };
        Adopt(message);
        return message;
    }

    /// <summary>
    /// Takes a message whose seq was assigned before: one the durable store holds beyond this log (a write whose reply
    /// was lost had reached it). Its seq is never given to another message.
    /// </summary>
    public void Adopt(StreamMessage message)
    {
        if (message.Seq <= _seq)
        {
            throw new InvalidOperationException($"Seq {message.Seq} is not after the last seq {_seq}.");
        }

        _seq = message.Seq;
        (_retained ??= new Queue<StreamMessage>()).Enqueue(message);
        Trim();
    }

    /// <summary>
    /// Undoes the last <see cref="Append"/>: its persistence failed, so it was never acknowledged. The store may still
    /// hold it (a lost reply): it is read back before the seq is given again (<see cref="DurableAppender"/>).
    /// </summary>
    public void RemoveLast(StreamMessage message)
    {
        if (_seq != message.Seq)
        {
            throw new InvalidOperationException("Only the last appended message can be removed.");
        }

        // Queue has no RemoveLast: rebuild without it (rare path: a failed durable write).
        var kept = _retained?.Where(m => m.Seq != message.Seq).ToArray() ?? [];
        _retained = kept.Length > 0 ? new Queue<StreamMessage>(kept) : null;

        _seq--;
    }

    /// <summary>
    /// Every retained message with seq greater than <paramref name="afterSeq"/>, and whether that is all of them
    /// (nothing after <paramref name="afterSeq"/> has left retention).
    /// </summary>
    public StreamReplay ReadSince(long afterSeq)
    {
        Trim();
        if (afterSeq > _seq)
        {
            // The client has seen a seq this mailbox never issued (its state was lost in a crash):
            // nothing can be vouched for.
            return new StreamReplay(_seq, false, []);
        }

        if (afterSeq == _seq)
        {
            return new StreamReplay(_seq, true, []);
        }

        if (_retained is null)
        {
            return new StreamReplay(_seq, false, []); // afterSeq < _seq, and everything after it has left retention
        }

        var oldest = _retained.Peek().Seq;
        var recovered = oldest <= afterSeq + 1;
        var replay = new List<StreamMessage>((int)Math.Min(_seq - afterSeq, _retained.Count));
        foreach (var message in _retained)
        {
            if (message.Seq > afterSeq)
            {
                replay.Add(message);
            }
        }

        return new StreamReplay(_seq, recovered, replay);
    }

    public MessageLogSnapshot ToSnapshot()
    {
        Trim();
        return new MessageLogSnapshot(_seq, _retained is null ? [] : [.. _retained]);
    }

    private void Trim()
    {
        if (_retained is null)
        {
            return;
        }

        while (_retained.Count > _maxMessages)
        {
            _retained.Dequeue();
        }

        var cutoff = _time.GetUtcNow().ToUnixTimeMilliseconds() - (long)_maxAge.TotalMilliseconds;
        while (_retained.Count > 0 && _retained.Peek().AcceptedAtUnixMs < cutoff)
        {
            _retained.Dequeue();
        }

        if (_retained.Count == 0)
        {
            _retained = null; // frees the grown array of a client that has gone quiet
        }
    }
}

/// <summary>A mailbox's state as carried by grain migration.</summary>
[GenerateSerializer, Immutable, Alias("ogw.MailboxSnapshot")]
internal sealed record MessageLogSnapshot(
    [property: Id(0)] long Seq,
    [property: Id(1)] StreamMessage[] Messages);
