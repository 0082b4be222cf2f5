using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.Tests.Sessions;

public sealed class TokenExpirySweepTests
{
    private sealed class FakeSession(DateTimeOffset due) : IExpiringSession
    {
        public DateTimeOffset Due { get; set; } = due;

        public int Closes { get; private set; }

        public bool ExpireIfDue(DateTimeOffset now)
        {
            if (Closes > 0 || Due > now)
            {
                return false;
            }

            Closes++;
            return true;
        }
    }

    private static async Task<(FakeTimeProvider Time, TokenExpirySweep Sweep)> StartAsync(IEnumerable<IExpiringSession> sessions)
    {
        var time = new FakeTimeProvider();
        var sweep = new TokenExpirySweep(() => sessions, time, NullLogger<TokenExpirySweep>.Instance);
        await sweep.StartAsync(CancellationToken.None);
        return (time, sweep);
    }

    [Fact]
    public async Task Timer_SessionDueInTwoSeconds_ClosedWithinOneIntervalOfDueAndNotBefore()
    {
        var session = new FakeSession(DateTimeOffset.MinValue);
        var (time, sweep) = await StartAsync([session]);
        using var _ = sweep;
        session.Due = time.GetUtcNow() + TimeSpan.FromSeconds(2.5);

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, session.Closes);

        time.Advance(TokenExpirySweep.Interval);
        Assert.Equal(1, session.Closes);
    }

    [Fact]
    public async Task Timer_SessionRefreshedBeforeDue_NotClosedUntilNewDue()
    {
        var session = new FakeSession(DateTimeOffset.MinValue);
        var (time, sweep) = await StartAsync([session]);
        using var _ = sweep;
        session.Due = time.GetUtcNow() + TimeSpan.FromSeconds(2);

        time.Advance(TimeSpan.FromSeconds(1));
        session.Due = time.GetUtcNow() + TimeSpan.FromSeconds(10); // in-band refresh
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, session.Closes);

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, session.Closes);
    }

    [Fact]
    public void Sweep_MixOfDueAndNotDue_ClosesOnlyTheDueOnes()
    {
        var time = new FakeTimeProvider();
        var now = time.GetUtcNow();
        var sessions = new[] { new FakeSession(now), new FakeSession(now.AddSeconds(1)), new FakeSession(now.AddSeconds(-5)) };
        using var sweep = new TokenExpirySweep(() => sessions, time, NullLogger<TokenExpirySweep>.Instance);

        Assert.Equal(2, sweep.Sweep());
        Assert.Equal([1, 0, 1], sessions.Select(s => s.Closes));
    }

    [Fact]
    public void Sweep_SessionSourceThrows_ReturnsZeroAndKeepsRunning()
    {
        var time = new FakeTimeProvider();
        var calls = 0;
        using var sweep = new TokenExpirySweep(
            () => ++calls == 1 ? throw new InvalidOperationException("boom") : [],
            time,
            NullLogger<TokenExpirySweep>.Instance);

        Assert.Equal(0, sweep.Sweep());
        Assert.Equal(0, sweep.Sweep());
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task StopAsync_AfterStart_NoMoreSweeps()
    {
        var session = new FakeSession(DateTimeOffset.MaxValue);
        var (time, sweep) = await StartAsync([session]);
        await sweep.StopAsync(CancellationToken.None);
        session.Due = DateTimeOffset.MinValue;
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, session.Closes);
    }
}
