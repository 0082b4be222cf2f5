using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.EdgeHost.Cluster;

namespace OrleansGateway.Tests.Cluster;

public sealed class GrainCallPolicyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private readonly FakeTimeProvider _time = new();

    private GrainCallPolicy Create() => new(Timeout, _time, NullLogger<GrainCallPolicy>.Instance);

    [Fact]
    public async Task Repeatable_FirstTwoAttemptsRejected_ThirdAnswerReturned()
    {
        var attempts = 0;
        var result = await Create().RepeatableAsync(
            _ => ++attempts < 3 ? Task.FromException<int>(new OrleansException("stopping silo")) : Task.FromResult(42), 0, "c1")
            .WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(42, result);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task Repeatable_NoAnswer_AskedAgainAfterEachTimeoutAndThirdTimeoutThrown()
    {
        var attempts = 0;
        var call = Create().RepeatableAsync(_ =>
        {
            Interlocked.Increment(ref attempts);
            return new TaskCompletionSource<int>().Task; // never answers
        }, 0, "c1");

        for (var expected = 1; expected <= GrainCallPolicy.Attempts; expected++)
        {
            await WaitUntilAsync(() => Volatile.Read(ref attempts) == expected);
            Assert.False(call.IsCompleted);
            _time.Advance(Timeout);
        }

        await Assert.ThrowsAsync<TimeoutException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(GrainCallPolicy.Attempts, attempts);
    }

    [Fact]
    public async Task Repeatable_OtherFailure_ThrownWithoutAskingAgain()
    {
        var attempts = 0;
        var call = Create().RepeatableAsync(_ => { attempts++; return Task.FromException<int>(new InvalidOperationException()); }, 0, "c1");

        await Assert.ThrowsAsync<InvalidOperationException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Once_NoAnswerWithinTimeout_ThrowsTimeoutOnceWithoutAskingAgain()
    {
        var call = Create().OnceAsync(new TaskCompletionSource<int>().Task);

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<TimeoutException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Once_CallersOwnBound_UsedInsteadOfTheCallTimeout()
    {
        var call = Create().OnceAsync(new TaskCompletionSource().Task, TimeSpan.FromSeconds(1));

        _time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<TimeoutException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 10 s");
            await Task.Yield();
        }
    }
}
