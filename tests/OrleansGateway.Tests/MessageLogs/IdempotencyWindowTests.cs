using System.Text;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.Grains;
using OrleansGateway.Grains.MessageLogs;
using Xunit.Abstractions;

namespace OrleansGateway.Tests.MessageLogs;

public sealed class IdempotencyWindowTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private IdempotencyWindow Create(int maxKeys = 3, int maxAgeSeconds = 60) => new(maxKeys, TimeSpan.FromSeconds(maxAgeSeconds), _time);

    private static ulong Hash(string data) => IdempotencyKeys.Hash(Encoding.UTF8.GetBytes(data));

    [Fact]
    public void Find_KeyAccepted_ItsPosition()
    {
        var window = Create();
        Assert.Null(window.Find("alice", "k1", Hash("a")));
        window.Add("alice", "k1", Hash("a"), 7, Now);
        Assert.Equal(7, window.Find("alice", "k1", Hash("a")));
    }

    [Fact]
    public void Find_SameKeyFromAnotherSender_NotFound()
    {
        var window = Create();
        window.Add("alice", "k1", Hash("a"), 7, Now);
        Assert.Null(window.Find("bob", "k1", Hash("a")));
    }

    [Fact]
    public void Find_SameKeyOtherData_ThrowsKeyReused()
    {
        var window = Create();
        window.Add("alice", "k1", Hash("a"), 7, Now);
        Assert.Throws<IdempotencyKeyReusedException>(() => window.Find("alice", "k1", Hash("b")));
    }

    [Fact]
    public void Add_BeyondMaxKeys_OldestLeavesTheWindow()
    {
        var window = Create(maxKeys: 3);
        for (var i = 1; i <= 4; i++)
        {
            window.Add("alice", $"k{i}", Hash("a"), i, Now);
        }

        Assert.Equal(3, window.Count);
        Assert.Null(window.Find("alice", "k1", Hash("a")));
        Assert.Equal(2, window.Find("alice", "k2", Hash("a")));
        Assert.Equal(4, window.Find("alice", "k4", Hash("a")));
    }

    [Fact]
    public void Find_OlderThanMaxAge_NotFoundAndTheWindowHoldsNothing()
    {
        var window = Create(maxAgeSeconds: 60);
        window.Add("alice", "old", Hash("a"), 1, Now);
        _time.Advance(TimeSpan.FromSeconds(30));
        window.Add("alice", "new", Hash("a"), 2, Now);

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Null(window.Find("alice", "old", Hash("a")));
        Assert.Equal(2, window.Find("alice", "new", Hash("a")));

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(window.Find("alice", "new", Hash("a")));
        Assert.Equal(0, window.Count);
    }

    [Fact]
    public void Restore_FromSnapshot_SameKeysInOrder()
    {
        var window = Create(maxKeys: 2);
        window.Add("alice", "k1", Hash("a"), 1, Now);
        window.Add("bob", "k2", Hash("b"), 2, Now);

        var copy = Create(maxKeys: 2);
        copy.Restore(window.ToSnapshot());
        copy.Add("carol", "k3", Hash("c"), 3, Now); // the oldest restored key leaves first

        Assert.Null(copy.Find("alice", "k1", Hash("a")));
        Assert.Equal(2, copy.Find("bob", "k2", Hash("b")));
        Assert.Throws<IdempotencyKeyReusedException>(() => copy.Find("bob", "k2", Hash("a")));
    }

    [Fact]
    public void Find_NeverGivenAKey_AllocatesNothing()
    {
        var window = Create();
        window.Find("alice", "k1", 1); // JIT
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Null(window.Find("alice", "k1", 1));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

public sealed class RedisIdempotencyKeyEncodingTests
{
    [Fact]
    public void EncodeKey_ThenDecode_SameRecordWithTheSeqAndTimeGiven()
    {
        var record = new IdempotencyKeyRecord("alice@x", "k-é-1", 0xFEDCBA9876543210, 42, 1_700_000_000_000);
        Assert.Equal(record, RedisMessageLogStore.DecodeKey(RedisMessageLogStore.EncodeKey(record), 42, 1_700_000_000_000));
    }
}

/// <summary>
/// The memory figure of docs/reliability.md, measured as bytes allocated on the test's own thread (exact, unlike
/// <see cref="GC.GetTotalMemory"/>, which counts every thread's allocations and varied by 2x between runs here).
/// </summary>
public sealed class IdempotencyWindowMemoryTests(ITestOutputHelper output)
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    /// <summary>
    /// Bytes allocated per key while filling a window of 1,000 keys (the default) with a 16-character key and a
    /// 12-character sender id each, as a grain call delivers them (two strings of their own). An upper bound of what
    /// the window retains: it includes the arrays the dictionary and queue outgrew on the way.
    /// </summary>
    [Fact]
    public void Add_FullDefaultWindow_AllocatesUnder400BytesPerKey()
    {
        const int keys = RetentionOptions.DefaultIdempotencyKeys;
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        Fill(new IdempotencyWindow(keys, RetentionOptions.DefaultIdempotencyWindow, _time), 10, now); // JIT, static lambdas

        var start = GC.GetAllocatedBytesForCurrentThread();
        var window = new IdempotencyWindow(keys, RetentionOptions.DefaultIdempotencyWindow, _time);
        var stringBytes = Fill(window, keys, now);
        var total = GC.GetAllocatedBytesForCurrentThread() - start;

        Assert.Equal(keys, window.Count);
        var perKey = total / (double)keys;
        output.WriteLine($"allocated per key: {perKey:F1} B ({(total - stringBytes) / (double)keys:F1} B window structures + {stringBytes / (double)keys:F1} B the key's two strings)");
        Assert.InRange(perKey, 1, 400);
    }

    /// <summary>Adds <paramref name="keys"/> keys with fresh strings; returns the bytes those strings took.</summary>
    private static long Fill(IdempotencyWindow window, int keys, long now)
    {
        long stringBytes = 0;
        for (var i = 0; i < keys; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var sender = string.Create(12, i, static (span, n) => n.TryFormat(span, out _, "D12"));
            var key = string.Create(16, i, static (span, n) =>
            {
                "key-".CopyTo(span);
                n.TryFormat(span[4..], out _, "D12");
            });
            stringBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            window.Add(sender, key, (ulong)i, i, now);
        }

        return stringBytes;
    }
}
