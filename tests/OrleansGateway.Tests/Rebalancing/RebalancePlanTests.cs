using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Rebalancing;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Rebalancing;

public sealed class RebalancePlanTests
{
    private static readonly RebalanceOptions Options = new() { Tolerance = 0.2, MinConnections = 10, BatchSize = 50 };

    private static int Shed(int own, params int[] others) =>
        RebalancePlan.SessionsToShed("me", own, [new EdgeLoad("me", -1), .. others.Select((c, i) => new EdgeLoad($"e{i}", c))], Options);

    [Fact]
    public void SessionsToShed_AllOnOneOfTwoEdges_OneBatchTowardsTheMean() => Assert.Equal(50, Shed(200, 0));

    [Fact]
    public void SessionsToShed_ExcessSmallerThanABatch_DownToTheMeanExactly() => Assert.Equal(30, Shed(130, 70)); // mean 100

    [Fact]
    public void SessionsToShed_WithinTolerance_None() => Assert.Equal(0, Shed(119, 81)); // mean 100, 119 ≤ 120

    [Fact]
    public void SessionsToShed_JustAboveTolerance_DownToTheMean() => Assert.Equal(21, Shed(121, 79));

    [Fact]
    public void SessionsToShed_MeanBelowTheFloor_NeverBelowTheFloor() => Assert.Equal(2, Shed(12, 0, 0)); // mean 4, floor 10

    [Fact]
    public void SessionsToShed_AtOrBelowTheFloor_None() => Assert.Equal(0, Shed(10, 0));

    [Fact]
    public void SessionsToShed_NoOtherEdgeReported_None() => Assert.Equal(0, Shed(1000));

    [Fact]
    public void SessionsToShed_AnEdgeThatDoesNotRebalance_NotInTheMean() =>
        // 200 against a rebalancing edge with 200 is balanced; the empty edge with rebalancing off does not pull the mean to 133.
        Assert.Equal(0, RebalancePlan.SessionsToShed(
            "me", 200, [new EdgeLoad("e0", 200), new EdgeLoad("off", 0, Rebalances: false)], Options));

    [Fact]
    public void SessionsToShed_OwnStaleReportIgnored_LocalCountUsed() =>
        // The registry still has our old 1000; we hold 100 now, the other 100: balanced.
        Assert.Equal(0, RebalancePlan.SessionsToShed("me", 100, [new EdgeLoad("me", 1000), new EdgeLoad("e0", 100)], Options));

    [Fact]
    public void SessionsToShed_BelowTheMean_None() => Assert.Equal(0, Shed(50, 150, 100));

    [Fact]
    public void RebalanceOptionsValidator_Defaults_ValidAndOff()
    {
        Assert.True(new RebalanceOptionsValidator().Validate(null, new RebalanceOptions()).Succeeded);
        Assert.False(new RebalanceOptions().Enabled);
    }

    [Fact]
    public void RebalanceOptionsValidator_SeveralBadValues_ReportsEveryFailure()
    {
        var options = new RebalanceOptions
        {
            Interval = TimeSpan.FromMilliseconds(10),
            Tolerance = 0,
            MinConnections = -1,
            BatchSize = 0,
            MaxReconnectDelay = TimeSpan.FromMinutes(1),
        };
        var result = new RebalanceOptionsValidator().Validate(null, options);
        Assert.Equal(5, result.Failures!.Count());
    }
}
