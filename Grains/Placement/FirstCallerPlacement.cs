using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace OrleansGateway.Grains.Placement;

/// <summary>
/// Places a new activation on the silo that received the call creating it, while that silo is active; otherwise (a
/// silo stopping and migrating its grains, or one that cannot host the type) on another compatible silo at random,
/// never back on itself.
/// </summary>
/// <remarks>
/// Why: a client grain is first called by the edge attaching the client's socket. When edges co-host a silo
/// (<c>Gateway:EmbeddedSilo</c>, the "combined" topology in docs/benchmarks.md) that is the silo in the very process
/// holding the socket, so the grain's pushes never leave the process and a direct message crosses the network once
/// (sender's process to the recipient's). With separate edge and silo tiers it is the gateway silo the attaching edge
/// routes that grain's calls through, so the edge's own calls (attach, resume, gap repair) need no silo-to-silo forward.
/// Orleans' own <c>PreferLocalPlacement</c> falls back to plain random placement when the local silo is stopping, which
/// may pick the stopping silo itself and then migrate nothing.
/// </remarks>
[GenerateSerializer, Immutable, Alias("ogw.FirstCallerPlacement")]
public sealed class FirstCallerPlacement : PlacementStrategy
{
    internal static readonly FirstCallerPlacement Singleton = new();
}

/// <summary>Puts a grain class under <see cref="FirstCallerPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class FirstCallerPlacementAttribute() : PlacementAttribute(FirstCallerPlacement.Singleton);

internal sealed class FirstCallerPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hint)
        {
            return Task.FromResult(hint);
        }

        var local = context.LocalSilo;
        if (context.LocalSiloStatus == SiloStatus.Active && Array.IndexOf(compatible, local) >= 0)
        {
            return Task.FromResult(local);
        }

        var others = compatible.Where(silo => !silo.Equals(local)).ToArray();
        var pool = others.Length > 0 ? others : compatible;
        if (pool.Length == 0)
        {
            throw new OrleansException($"No compatible silo to place {target.GrainIdentity} on.");
        }

        return Task.FromResult(pool[Random.Shared.Next(pool.Length)]);
    }
}
