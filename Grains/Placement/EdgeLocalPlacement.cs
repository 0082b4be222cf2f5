using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace OrleansGateway.Grains.Placement;

/// <summary>
/// Where client grains go. On a silo co-hosted with an edge (<c>Gateway:EmbeddedSilo</c>, the "combined" topology), a
/// new activation goes on the silo that received the call creating it while that silo is active: the first call to a
/// client grain is the attach of the edge holding the client's socket, so the grain lives in that very process, its
/// pushes never leave it, and a direct message crosses the network once (sender's process to the recipient's).
/// Everywhere else — separate edge and silo tiers, a silo stopping and migrating its grains, a silo that cannot host the
/// type — Orleans' default placement decides, exactly as without this strategy.
/// </summary>
/// <remarks>
/// Not Orleans' <c>PreferLocalPlacement</c>: it would also apply to separate tiers (where "local" is merely the gateway
/// silo an edge happened to pick, and silos unknown to an edge's gateway list would get no client grains), and when the
/// local silo is stopping it falls back to plain random placement, which may pick the stopping silo and migrate nothing.
/// </remarks>
[GenerateSerializer, Immutable, Alias("ogw.EdgeLocalPlacement")]
public sealed class EdgeLocalPlacement : PlacementStrategy
{
    internal static readonly EdgeLocalPlacement Singleton = new();
}

/// <summary>Puts a grain class under <see cref="EdgeLocalPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class EdgeLocalPlacementAttribute() : PlacementAttribute(EdgeLocalPlacement.Singleton);

/// <param name="coHostedWithEdge">True on a silo an edge co-hosts (the combined topology).</param>
/// <param name="fallback">Orleans' default director (resource-optimized placement).</param>
internal sealed class EdgeLocalPlacementDirector(bool coHostedWithEdge, IPlacementDirector fallback) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        if (coHostedWithEdge
            && context.LocalSiloStatus == SiloStatus.Active
            && IPlacementDirector.GetPlacementHint(target.RequestContextData, context.GetCompatibleSilos(target)) is null
            && Array.IndexOf(context.GetCompatibleSilos(target), context.LocalSilo) >= 0)
        {
            return Task.FromResult(context.LocalSilo);
        }

        return fallback.OnAddActivation(strategy, target, context);
    }
}
