using Orleans.Concurrency;

namespace OrleansGateway.Grains;

/// <summary>
/// One observer per edge process. Grains push to it one-way: a dead edge must never block a grain, and
/// what a dead edge misses the client recovers by resuming with <c>last_seq</c>.
/// </summary>
/// <remarks>
/// Silos send <see cref="PushAsync"/> and <see cref="DisconnectAsync"/>. <see cref="DeliverAsync"/>,
/// <see cref="DeliverManyAsync"/> and <see cref="DeliverPublicationsAsync"/> are what silos of earlier releases send: edges keep
/// serving them during a rolling deploy (edges roll before silos, docs/operations.md).
/// </remarks>
[Alias("ogw.IEdgeObserver")]
public interface IEdgeObserver : IGrainObserver
{
    /// <summary>New mailbox messages for one client; the edge fans them out to its local sessions of that client.</summary>
    [OneWay, Alias("Deliver")]
    Task DeliverAsync(MailboxBatch batch);

    /// <summary>
    /// Several clients' new messages at once: a silo coalesces what its grains push to this edge in the same instant
    /// into one call. Equivalent to <see cref="DeliverAsync"/> for each batch, in order.
    /// </summary>
    [OneWay, Alias("DeliverMany")]
    Task DeliverManyAsync(MailboxBatch[] batches);

    /// <summary>New publications on one channel; the edge fans them out to its local subscribers.</summary>
    [OneWay, Alias("Publish")]
    Task DeliverPublicationsAsync(ChannelBatch batch);

    /// <summary>
    /// What a silo's grains pushed to this edge in the same instant, direct messages and channel publications alike,
    /// in one call. Equivalent to <see cref="DeliverAsync"/> for each mailbox batch and <see cref="DeliverPublicationsAsync"/> for
    /// each channel batch, each kind in order.
    /// </summary>
    [OneWay, Alias("Push")]
    Task PushAsync(EdgePush push);

    /// <summary>Asks the edge to close every local session of <paramref name="clientId"/> with <c>bye</c> <paramref name="code"/>.</summary>
    [OneWay, Alias("Disconnect")]
    Task DisconnectAsync(string clientId, string code);
}
