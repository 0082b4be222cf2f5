using System.Diagnostics.Metrics;
using OrleansGateway.EdgeHost.Diagnostics;

namespace OrleansGateway.EdgeHost.Rebalancing;

/// <summary>Rebalancing's instruments, on the edge's meter (<see cref="EdgeMetrics.MeterName"/>; the factory hands out the same meter).</summary>
internal sealed class RebalanceMetrics
{
    private readonly Counter<long> _shed;

    public RebalanceMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(EdgeMetrics.MeterName);
        _shed = meter.CreateCounter<long>("ogw.edge.rebalance.shed", "{session}", "Sessions told bye draining to even out connections across edges");
    }

    public void Shed(int sessions) => _shed.Add(sessions);
}
