using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains;

/// <summary>
/// Idempotency: a keyed send or publish is appended at most once per (sender, key) within the window
/// (<see cref="RetentionOptions.IdempotencyKeys"/>, <see cref="RetentionOptions.IdempotencyWindow"/>); a repeat is
/// answered with the position first given. The window is created by the first key (a grain that never sees one pays a
/// null reference), migrates with the grain, and with durability is stored in the same write as the message.
/// </summary>
internal abstract partial class MessageLogGrain : ISettleTarget
{
    private const string KeysMigrationKey = "keys";

    private IdempotencyWindow? _keys;

    IdempotencyWindow ISettleTarget.Keys => Keys;

    InboundDeduplicator ISettleTarget.Positions => Inbound;

    private IdempotencyWindow Keys => _keys ??= NewWindow();

    void ISettleTarget.Adopted(StreamMessage message) => Deliver(message);

    /// <summary>Pushes a message just taken into the log to the edges attached (and asks for the sweep's re-push).</summary>
    protected abstract void Deliver(StreamMessage message);

    /// <summary>Now, for entries of a window from <see cref="NewWindow"/>.</summary>
    protected long NowUnixMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A window with this grain's bounds, for the keys of something else it owns (a client's <c>up</c> frames).</summary>
    protected IdempotencyWindow NewWindow() => new(_retention.IdempotencyKeys, _retention.IdempotencyWindow, _time);

    /// <summary>
    /// Appends and delivers <paramref name="data"/> unless <paramref name="key"/> from <paramref name="from"/> is in the
    /// window; then answers its position with <see cref="Accepted.Duplicate"/>.
    /// </summary>
    /// <exception cref="IdempotencyKeyReusedException">The key was accepted with other data.</exception>
    protected async Task<Accepted> AppendOnceAsync(string from, byte[] data, string key)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(data);
        IdempotencyKeys.ThrowIfInvalid(key);
        var hash = IdempotencyKeys.Hash(data);

        // A write whose outcome is unknown (its reply lost) may hold this very key: the store is read back first.
        await SettleDurableAsync();
        if (_keys?.Find(from, key, hash) is { } position)
        {
            Metrics.Duplicate(Kind);
            return new Accepted(position, true);
        }

        var message = await AppendAsync(MessageLog, from, data, new PendingKey(key, hash));
        Keys.Add(from, key, hash, message.Seq, message.AcceptedAtUnixMs);
        Deliver(message);
        return new Accepted(message.Seq, false);
    }

    private void DehydrateKeys(IDehydrationContext context)
    {
        if (_keys is { Count: > 0 } keys)
        {
            context.TryAddValue(KeysMigrationKey, keys.ToSnapshot());
        }
    }

    private void RehydrateKeys(IRehydrationContext context)
    {
        if (context.TryGetValue(KeysMigrationKey, out IdempotencyKeyRecord[]? keys) && keys is { Length: > 0 })
        {
            Keys.Restore(keys);
        }
    }

    private void LoadKeys(StoredLog stored)
    {
        if (stored.Keys.Count > 0)
        {
            Keys.Restore(stored.Keys);
        }
    }
}
