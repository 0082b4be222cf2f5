using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace OrleansGateway.Streams.Kafka;

/// <summary>
/// Reads one Kafka partition for one Orleans queue. It <c>Assign</c>s the partition (no group membership: Orleans' queue
/// balancer decides which silo reads it), resumes from the offset committed to <see cref="KafkaStreamOptions.ConsumerGroupId"/>,
/// and commits only the longest prefix of records that Orleans reported delivered (or that were skipped or given up), so a
/// crash re-delivers rather than loses. Orleans calls it from one pulling agent, one call at a time.
/// </summary>
/// <remarks>
/// Over 300 lines: reading, pausing, committing and dead-lettering all act on the same per-partition offsets (the
/// tracker, the unsettled records, the committed position), owned by that one pulling agent; the pure parts are already
/// apart (<see cref="KafkaOffsetTracker"/>, <see cref="KafkaDeadLetterWriter"/>, <see cref="KafkaRecordMapper"/>).
/// </remarks>
internal sealed partial class KafkaAdapterReceiver : IQueueAdapterReceiver
{
    private static long _lastEpoch;

    private readonly KafkaStreamOptions _options;
    private readonly TopicPartition _partition;
    private readonly ILogger _logger;
    private readonly KafkaStreamMetrics _metrics;
    private readonly KafkaOffsetTracker _tracker = new();
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentQueue<long> _givenUp = new();
    private readonly KafkaDeadLetterWriter? _deadLetters;

    // With a dead-letter topic only: the records read and not yet settled (to copy one when it is given up), and the
    // records waiting for their copy, oldest first. Touched by the pulling agent only, one call at a time.
    private readonly Dictionary<long, ConsumeResult<byte[]?, byte[]?>> _unsettled = [];
    private readonly Queue<(long Offset, string Reason)> _toDeadLetter = new();
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private Task? _inFlight;
    private long _committed = -1;
    private bool _paused;
    private bool _shutDown;

    public KafkaAdapterReceiver(
        KafkaStreamOptions options, TopicPartition partition, ILogger logger, KafkaStreamMetrics metrics, TimeProvider timeProvider, KafkaDeadLetterWriter? deadLetters = null)
    {
        _deadLetters = deadLetters;
        _options = options;
        _partition = partition;
        _logger = logger;
        _metrics = metrics;
        _timeProvider = timeProvider;
    }

    public TopicPartition Partition => _partition;

    /// <summary>Process-unique id of this receiver, stamped on its tokens.</summary>
    public long Epoch { get; } = Interlocked.Increment(ref _lastEpoch);

    /// <summary>Records read and not yet settled (for tests and diagnostics).</summary>
    internal int PendingCount => _tracker.PendingCount;

    /// <summary>True while fetching is paused because too many records are pending.</summary>
    internal bool IsPaused => _paused;

    public Task Initialize(TimeSpan timeout)
    {
        EnsureConsumer();
        return Task.CompletedTask;
    }

    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

    public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken)
    {
        var consumer = EnsureConsumer();
        if (consumer is null)
        {
            return [];
        }

        // Orleans only reads while its pulling agent runs: a give-up reported during the agent's shutdown (its
        // delivery retries stop) never gets here, so that record stays uncommitted and is delivered again later.
        while (_givenUp.TryDequeue(out var givenUp))
        {
            if (_deadLetters is null)
            {
                _tracker.Settle(givenUp);
            }
            else
            {
                _toDeadLetter.Enqueue((givenUp, "given_up"));
            }
        }

        var batch = ReadBatch(consumer, maxCount);
        await DeadLetterAsync(cancellationToken);

        // Lag = records in the partition not yet accepted by a grain (librdkafka's cached high watermark: no round trip).
        var high = consumer.GetWatermarkOffsets(_partition).High;
        if (high.Value >= 0)
        {
            _metrics.SetLag(_partition.Topic, _partition.Partition.Value, Math.Max(0, high.Value - _tracker.CommittableOffset));
        }

        // Skipped and given-up records settle without a delivery: commit past them here too.
        if (_tracker.CommittableOffset > _committed)
        {
            await CommitAsync(cancellationToken);
        }

        return batch;
    }

    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => MessagesDeliveredAsync(messages, CancellationToken.None);

    public async Task MessagesDeliveredAsync(IList<IBatchContainer> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            if (message is KafkaBatchContainer container)
            {
                _tracker.Settle(container.Token.Offset);
                _unsettled.Remove(container.Token.Offset);
            }
        }

        await CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Called by the delivery failure handler: Orleans gave up delivering a record. Settled on the next read (see
    /// <see cref="GetQueueMessagesAsync(int, CancellationToken)"/>), so it is committed past only while the agent runs.
    /// </summary>
    internal void GiveUp(KafkaSequenceToken token)
    {
        if (token.ReceiverEpoch != Epoch)
        {
            return;
        }

        _givenUp.Enqueue(token.Offset);
        _metrics.RecordGivenUp(_partition.Topic);
        Log.GaveUp(_logger, _partition.Topic, _partition.Partition.Value, token.Offset);
    }

    public async Task Shutdown(TimeSpan timeout)
    {
        var consumer = _consumer;
        _shutDown = true;
        if (consumer is null)
        {
            return;
        }

        using var cts = new CancellationTokenSource(timeout, _timeProvider);
        try
        {
            if (_inFlight is { } inFlight)
            {
                await inFlight.WaitAsync(cts.Token);
            }

            // Final commit of everything Orleans reported delivered.
            await CommitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Log.ShutdownTimedOut(_logger, _partition.Topic, _partition.Partition.Value, timeout);
        }
        finally
        {
            _consumer = null;
            _metrics.RemoveLag(_partition.Topic, _partition.Partition.Value); // another silo reports this partition now
            await CloseAsync(consumer, timeout);
        }
    }

    private IConsumer<byte[]?, byte[]?>? EnsureConsumer()
    {
        if (_shutDown)
        {
            return null;
        }

        if (_consumer is not null)
        {
            return _consumer;
        }

        IConsumer<byte[]?, byte[]?>? consumer = null;
        try
        {
            consumer = new ConsumerBuilder<byte[]?, byte[]?>(_options.ToConsumerConfig())
                .SetErrorHandler((_, error) => Log.ClientError(_logger, _partition.Topic, _partition.Partition.Value, error.Code, error.Reason))
                .SetLogHandler((_, message) => KafkaClientLog.Forward(_logger, message))
                .Build();

            // Offset.Stored: resume from the group's committed offset, else AutoOffsetReset.
            consumer.Assign(new TopicPartitionOffset(_partition, Offset.Stored));
            Log.Assigned(_logger, _partition.Topic, _partition.Partition.Value, _options.ConsumerGroupId);
            _consumer = consumer;
            return consumer;
        }
        catch (KafkaException exception)
        {
            consumer?.Dispose();
            throw new KafkaStreamException($"Could not start reading {_partition.Topic}/{_partition.Partition.Value}: {exception.Error.Reason}", exception);
        }
    }

    private List<IBatchContainer> ReadBatch(IConsumer<byte[]?, byte[]?> consumer, int maxCount)
    {
        UpdatePause(consumer);
        var limit = maxCount < 0 ? _options.MaxBatchSize : Math.Min(maxCount, _options.MaxBatchSize);
        limit = Math.Min(limit, _options.MaxPendingRecords - _tracker.PendingCount);
        var batch = new List<IBatchContainer>(Math.Max(0, Math.Min(limit, 64)));
        while (!_paused && batch.Count < limit)
        {
            ConsumeResult<byte[]?, byte[]?>? result;
            try
            {
                // Zero timeout: librdkafka prefetches in the background; this only takes what has arrived.
                result = consumer.Consume(TimeSpan.Zero);
            }
            catch (ConsumeException exception) when (batch.Count > 0)
            {
                // Hand over what was read; the next read reports the error.
                Log.ConsumeError(_logger, _partition.Topic, _partition.Partition.Value, exception.Error.Code, exception.Error.Reason);
                break;
            }
            catch (ConsumeException exception)
            {
                throw new KafkaStreamException($"Reading {_partition.Topic}/{_partition.Partition.Value} failed: {exception.Error.Reason}", exception);
            }

            if (result is null || result.IsPartitionEOF)
            {
                break;
            }

            var offset = result.Offset.Value;
            var mapped = KafkaRecordMapper.Map(result);
            if (!mapped.IsValid)
            {
                // Settled at once, unless it is to be copied to the dead-letter topic first.
                _tracker.Read(offset, settled: _deadLetters is null);
                _metrics.RecordInvalid(result.Topic);
                Log.InvalidRecord(_logger, result.Topic, result.Partition.Value, offset, mapped.Error!);
                if (_deadLetters is not null)
                {
                    _unsettled[offset] = result;
                    _toDeadLetter.Enqueue((offset, $"invalid: {mapped.Error}"));
                }

                continue;
            }

            _tracker.Read(offset);
            if (_deadLetters is not null)
            {
                _unsettled[offset] = result;
            }

            _metrics.RecordRead(result.Topic);
            batch.Add(new KafkaBatchContainer(mapped.StreamId, mapped.Record!, new KafkaSequenceToken(offset, Epoch)));
        }

        UpdatePause(consumer);
        return batch;
    }

    /// <summary>
    /// Copies the records waiting for the dead-letter topic, oldest first, settling each once the broker acknowledged
    /// it; stops at the first failure (the commit stays behind that record) and retries on the next read.
    /// </summary>
    private async Task DeadLetterAsync(CancellationToken cancellationToken)
    {
        while (_deadLetters is not null && _toDeadLetter.TryPeek(out var next))
        {
            if (_unsettled.TryGetValue(next.Offset, out var record)
                && !await _deadLetters.TryWriteAsync(record, next.Reason, cancellationToken))
            {
                return;
            }

            _toDeadLetter.Dequeue();
            _unsettled.Remove(next.Offset);
            _tracker.Settle(next.Offset);
        }
    }

    /// <summary>Pauses fetching at <see cref="KafkaStreamOptions.MaxPendingRecords"/> pending records, resumes at half.</summary>
    private void UpdatePause(IConsumer<byte[]?, byte[]?> consumer)
    {
        var pending = _tracker.PendingCount;
        try
        {
            if (!_paused && pending >= _options.MaxPendingRecords)
            {
                consumer.Pause([_partition]);
                _paused = true;
                Log.Paused(_logger, _partition.Topic, _partition.Partition.Value, pending);
            }
            else if (_paused && pending <= _options.MaxPendingRecords / 2)
            {
                consumer.Resume([_partition]);
                _paused = false;
                Log.Resumed(_logger, _partition.Topic, _partition.Partition.Value, pending);
            }
        }
        catch (KafkaException exception)
        {
            throw new KafkaStreamException($"Pausing or resuming {_partition.Topic}/{_partition.Partition.Value} failed: {exception.Error.Reason}", exception);
        }
    }

    private async Task CommitAsync(CancellationToken cancellationToken)
    {
        var consumer = _consumer;
        var offset = _tracker.CommittableOffset;
        if (consumer is null || offset <= _committed)
        {
            return;
        }

        var task = CommitWithRetriesAsync(consumer, offset, cancellationToken);
        _inFlight = task;
        try
        {
            await task;
        }
        finally
        {
            _inFlight = null;
        }

        UpdatePause(consumer);
    }

    private async Task CommitWithRetriesAsync(IConsumer<byte[]?, byte[]?> consumer, long offset, CancellationToken cancellationToken)
    {
        var commit = new[] { new TopicPartitionOffset(_partition, new Offset(offset)) };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Commit is a blocking network call: keep it off the pulling agent's thread.
                await Task.Run(() => consumer.Commit(commit), cancellationToken);
                _committed = offset;
                _metrics.Commit(_partition.Topic);
                Log.Committed(_logger, _partition.Topic, _partition.Partition.Value, offset);
                return;
            }
            catch (KafkaException exception) when (attempt < _options.CommitAttempts)
            {
                Log.CommitRetry(_logger, _partition.Topic, _partition.Partition.Value, offset, attempt, exception.Error.Reason);
                await Task.Delay(_options.CommitRetryBackoff * attempt, _timeProvider, cancellationToken);
            }
            catch (KafkaException exception)
            {
                // Not lost: the offset stays committable and the next delivery (or shutdown) commits it.
                _metrics.CommitFailed(_partition.Topic);
                Log.CommitFailed(_logger, _partition.Topic, _partition.Partition.Value, offset, attempt, exception);
                return;
            }
        }
    }

    private async Task CloseAsync(IConsumer<byte[]?, byte[]?> consumer, TimeSpan timeout)
    {
        var close = Task.Run(() =>
        {
            try
            {
                consumer.Close();
            }
            finally
            {
                consumer.Dispose();
            }
        });

        try
        {
            await close.WaitAsync(timeout, _timeProvider);
            Log.Closed(_logger, _partition.Topic, _partition.Partition.Value, _committed);
        }
        catch (TimeoutException)
        {
            Log.ShutdownTimedOut(_logger, _partition.Topic, _partition.Partition.Value, timeout);
        }
        catch (KafkaException exception)
        {
            Log.CloseFailed(_logger, _partition.Topic, _partition.Partition.Value, exception);
        }
    }
}
