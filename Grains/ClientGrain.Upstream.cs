using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Grains;

/// <summary>
/// The client's keyed <c>up</c> frames: the edge asks here whether a key was produced already and records it once the
/// broker took it. The window lives in the sender's grain (not on an edge) so a repeat from any session on any edge
/// is recognised; it migrates with the grain (<c>upstream-keys</c>) but is not persisted: after a silo crash a repeat
/// is produced again, carrying the same <c>ogw-key</c> header for consumers to drop (docs/reliability.md).
/// </summary>
internal sealed partial class ClientGrain
{
    private const string UpstreamKeysMigrationKey = "upstream-keys";

    // Created by the first keyed up: most clients never send one.
    private IdempotencyWindow? _upstream;

    public Task<bool> WasUpstreamProducedAsync(string topic, string key, ulong hash)
    {
        IdempotencyKeys.ThrowIfInvalid(key);
        return Task.FromResult(_upstream?.Find(topic, key, hash) is not null);
    }

    public Task UpstreamProducedAsync(string topic, string key, ulong hash)
    {
        IdempotencyKeys.ThrowIfInvalid(key);
        (_upstream ??= NewWindow()).Add(topic, key, hash, 0, NowUnixMs);
        return Task.CompletedTask;
    }

    protected override void Dehydrate(IDehydrationContext context)
    {
        if (_upstream is { Count: > 0 } upstream)
        {
            context.TryAddValue(UpstreamKeysMigrationKey, upstream.ToSnapshot());
        }
    }

    protected override void Rehydrate(IRehydrationContext context)
    {
        if (context.TryGetValue(UpstreamKeysMigrationKey, out IdempotencyKeyRecord[]? keys) && keys is { Length: > 0 })
        {
            (_upstream ??= NewWindow()).Restore(keys);
        }
    }
}
