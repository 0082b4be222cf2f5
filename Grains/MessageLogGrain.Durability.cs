using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains;

/// <summary>Durability: the log loaded from the durable store on activation, and each append persisted before it is acknowledged.</summary>
internal abstract partial class MessageLogGrain
{
    private readonly MessageLogStoreFactory _stores;
    private DurableAppender? _durable;

    private async Task LoadDurableAsync()
    {
        if (_stores.Durability != MailboxDurability.Memory)
        {
            _durable = new DurableAppender((await _stores.GetAsync())!, Kind, Key, _retention);
            if (!_rehydrated)
            {
                // A crash (or an idle deactivation) lost the memory copy: the durable one is the truth.
                var stored = await _durable.LoadAsync();

                if (stored.Log is not null)
                {
                    MessageLog = NewLog(stored.Log);
                }

                MergeInbound(stored.InboundPositions);
                LoadKeys(stored);
            }
        }
    }

    /// <summary>
    /// Appends to <paramref name="log"/> and, with durability, persists before returning; if persisting fails the
    /// caller's send fails with <see cref="MessageLogStoreException"/> (never acknowledged, and its seq never given twice).
    /// <paramref name="idempotencyKey"/> is persisted in the same write.
    /// </summary>
    /// <remarks>A <see cref="ValueTask{TResult}"/>: without durability it completes at once, and a send pays no task for it.</remarks>
    protected ValueTask<StreamMessage> AppendAsync(MessageLog log, string from, byte[] data, PendingKey? idempotencyKey = null)
    {
        if (_durable is null)
        {
            var message = log.Append(from, data);
            Metrics.Accepted(Kind);
            return new ValueTask<StreamMessage>(message);
        }

        return AppendDurableAsync(log, from, data, idempotencyKey);
    }

    private async ValueTask<StreamMessage> AppendDurableAsync(MessageLog log, string from, byte[] data, PendingKey? idempotencyKey)
    {
        var message = await _durable!.AppendAsync(log, from, data, _accepting, idempotencyKey, this);
        Metrics.Accepted(Kind);
        return message;
    }

    /// <summary>Before an inbound record's duplicate check: a write with no known outcome may hold this record's position.</summary>
    private Task SettleDurableAsync() => _durable is null ? Task.CompletedTask : _durable.SettleAsync(this);
}
