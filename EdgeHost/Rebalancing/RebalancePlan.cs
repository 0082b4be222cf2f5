using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Rebalancing;

/// <summary>The shed decision of one round, pure: counts in, how many sessions to tell <c>bye</c> out.</summary>
internal static class RebalancePlan
{
    /// <summary>
    /// How many of its <paramref name="own"/> sessions this edge sheds now: none unless it holds more than the mean of
    /// the live rebalancing edges × (1 + tolerance); then down to the mean (never below the floor), at most one batch.
    /// </summary>
    /// <param name="edgeId">This edge: its entry in <paramref name="loads"/> is replaced by <paramref name="own"/>, which is fresher.</param>
    /// <param name="own">This edge's sessions now.</param>
    /// <param name="loads">Every live edge's last report (from <see cref="IEdgeLoadGrain"/>).</param>
    public static int SessionsToShed(string edgeId, int own, IReadOnlyCollection<EdgeLoad> loads, RebalanceOptions options)
    {
        // Only edges that rebalance share among themselves: one that never sheds is not part of the mean.
        var others = loads.Where(l => l.EdgeId != edgeId && l.Rebalances).ToList();
        if (others.Count == 0)
        {
            return 0; // alone (or the others' reports not in yet): nowhere to send anyone
        }

        var mean = (own + others.Sum(l => (long)l.Connections)) / (double)(others.Count + 1);
        if (own <= mean * (1 + options.Tolerance))
        {
            return 0;
        }

        var keep = Math.Max((int)Math.Ceiling(mean), options.MinConnections);
        return Math.Clamp(own - keep, 0, options.BatchSize);
    }
}
