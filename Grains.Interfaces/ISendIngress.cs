using Orleans.Concurrency;

namespace OrleansGateway.Grains;

/// <summary>
/// A silo's entry for the <c>send</c>s of one edge (a stateless worker, keyed by the edge's id: activated on the gateway
/// silo the edge's calls reach, so handing a batch over costs no forward). An edge gathers the sends its
/// sessions make in the same instant and hands them over in one call, as silos gather their pushes to an edge the other
/// way (<see cref="IEdgeObserver.PushAsync"/>); the silo passes each to its recipient's grain
/// (<see cref="IClientSessionGrain.SendOneWayAsync"/>), whose answer rides in the silo's push to the edge as before.
/// One Orleans message between edge and silo per batch instead of one per send (docs/benchmarks.md, "Batched sends").
/// Silos of earlier releases do not have it: edges use it only with <c>Gateway:Edge:BatchSends</c> on
/// (docs/operations.md, "Wire compatibility").
/// </summary>
[Alias("ogw.ISendIngress")]
public interface ISendIngress : IGrainWithStringKey
{
    /// <summary>
    /// Passes each of <paramref name="sends"/>, in order, to its recipient's grain, with <paramref name="edgeId"/> as
    /// where its answer goes. One-way: a batch that is lost (its silo died) leaves its sends unanswered, and the edge
    /// answers each <c>err unavailable</c> after its call timeout, as for a lost answer.
    /// </summary>
    [OneWay, Alias("SendMany")]
    Task SendManyAsync(string edgeId, OutboundSend[] sends);
}

/// <summary>One <c>send</c> in an edge's batch (<see cref="ISendIngress.SendManyAsync"/>).</summary>
/// <param name="To">The recipient's client id.</param>
/// <param name="From">The sender's client id.</param>
/// <param name="Data">The message payload.</param>
/// <param name="Key">The send's idempotency key, or null.</param>
/// <param name="Ticket">The edge's number for this send (<see cref="SendAck.Ticket"/>).</param>
[GenerateSerializer, Immutable, Alias("ogw.OutboundSend")]
public readonly record struct OutboundSend(
    [property: Id(0)] string To,
    [property: Id(1)] string From,
    [property: Id(2)] byte[] Data,
    [property: Id(3)] string? Key,
    [property: Id(4)] long Ticket);
