using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.Tests.Sessions;

public sealed class ClientBudgetsTests
{
    private readonly FakeTimeProvider _time = new();

    private ClientBudgets Create(double framesPerSecond = 1, double frameBurst = 3) => new(
        Options.Create(new LimitsOptions { ClientFramesPerSecond = framesPerSecond, ClientFrameBurst = frameBurst }), _time);

    [Fact]
    public void Acquire_TwoSessionsOfOneClient_ShareOneBudget()
    {
        using var budgets = Create();
        var tab1 = budgets.Acquire("alice");
        var tab2 = budgets.Acquire("alice");
        Assert.True(tab1.TryTake(10));
        Assert.True(tab2.TryTake(10));
        Assert.True(tab1.TryTake(10));
        Assert.False(tab2.TryTake(10));
        Assert.True(budgets.Acquire("bob").TryTake(10)); // other clients are not affected
    }

    [Fact]
    public void Acquire_AfterReleaseBeforeRefill_NoFreshBurst()
    {
        using var budgets = Create(framesPerSecond: 0.01); // 10 s earn a tenth of a frame
        var first = budgets.Acquire("flooder");
        while (first.TryTake(1))
        {
        }

        budgets.Release(first);
        _time.Advance(ClientBudgets.SweepInterval); // the sweep runs, but the bucket has not refilled: kept
        var reconnected = budgets.Acquire("flooder");
        Assert.False(reconnected.TryTake(1));
        Assert.Equal(1, budgets.Count);
    }

    [Fact]
    public void Sweep_ReleasedAndRefilled_Forgotten()
    {
        using var budgets = Create(framesPerSecond: 1, frameBurst: 3);
        var budget = budgets.Acquire("alice");
        Assert.True(budget.TryTake(1));
        budgets.Release(budget);
        _time.Advance(ClientBudgets.SweepInterval); // 10 s at 1 frame/s: full again
        Assert.Equal(0, budgets.Count);
    }

    [Fact]
    public void CoolDown_AfterPolicyClose_RefusedUntilItEndsAndKeptMeanwhile()
    {
        using var budgets = Create(framesPerSecond: 1000, frameBurst: 1);
        var budget = budgets.Acquire("flooder");
        budget.CoolDown(TimeSpan.FromSeconds(25));
        budgets.Release(budget);
        Assert.True(budgets.IsCoolingDown("flooder"));
        Assert.False(budgets.IsCoolingDown("neighbour"));

        _time.Advance(ClientBudgets.SweepInterval * 2); // refilled, released, but still cooling down: kept
        Assert.True(budgets.IsCoolingDown("flooder"));
        Assert.Equal(1, budgets.Count);

        _time.Advance(ClientBudgets.SweepInterval); // 30 s: over, and forgotten by the sweep
        Assert.False(budgets.IsCoolingDown("flooder"));
        Assert.Equal(0, budgets.Count);
    }

    [Fact]
    public void Sweep_StillHeld_Kept()
    {
        using var budgets = Create();
        var held = budgets.Acquire("alice");
        _time.Advance(ClientBudgets.SweepInterval * 3);
        Assert.Equal(1, budgets.Count);
        Assert.Same(held, budgets.Acquire("alice"));
    }
}
