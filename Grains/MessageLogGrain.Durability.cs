using OrleansGateway.Grains.Mailboxes;
using StackExchange.Redis;

namespace OrleansGateway.Grains;

/// <summary>Durability: the log loaded from the durable store on activation, and each append persisted before it is acknowledged.</summary>
internal abstract partial class MessageLogGrain
{
    private readonly MailboxStoreFactory _stores;
    private IMailboxStore? _store;

    private async Task LoadDurableAsync()
    {
        if (_stores.Durability != MailboxDurability.Memory)
        {
            _store = await _stores.GetAsync();
            if (!_rehydrated)
            {
                // A crash (or an idle deactivation) lost the memory copy: the durable one is the truth.
                StoredLog stored;
                try
                {
                    stored = await _store!.LoadAsync(Kind, Key);
                }
                catch (RedisException ex)
                {
                    throw new MailboxStoreException($"loading {Kind} {Key} failed", ex);
                }

                if (stored.Log is not null)
                {
                    MessageLog = NewLog(stored.Log);
                }

                Inbound.Merge(stored.InboundPositions);
            }
        }
    }

    /// <summary>
    /// Appends to <paramref name="log"/> and, with durability, persists before returning; if persisting fails the
    /// append is undone and the caller's send fails (never acknowledged, so nothing is lost).
    /// </summary>
    protected async Task<MailboxMessage> AppendAsync(Mailbox log, string from, byte[] data)
    {
        var message = log.Append(from, data);
        if (_store is not null)
        {
            try
            {
                await _store.AppendAsync(Kind, Key, message, _retention.MaxMessages, _retention.MaxAge, _accepting);
            }
            catch (RedisException ex)
            {
                log.RemoveLast(message);
                throw new MailboxStoreException($"persisting to {Kind} {Key} failed", ex);
            }
        }

        Metrics.Accepted(Kind);
        return message;
    }
}
