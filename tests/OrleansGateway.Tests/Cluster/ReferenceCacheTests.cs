using OrleansGateway.EdgeHost.Cluster;

namespace OrleansGateway.Tests.Cluster;

public sealed class ReferenceCacheTests
{
    private sealed class Reference(string key)
    {
        public string Key { get; } = key;
    }

    [Fact]
    public void Get_SameKeyTwice_BuildsOnceAndReturnsSameReference()
    {
        var built = 0;
        var cache = new ReferenceCache<Reference>(16, key => { built++; return new Reference(key); });

        var first = cache.Get("alice");
        var second = cache.Get(new string("alice".AsSpan())); // equal, not the same string instance

        Assert.Same(first, second);
        Assert.Equal(1, built);
    }

    [Fact]
    public void Get_ManyKeys_ReturnsReferenceForEachKey()
    {
        var cache = new ReferenceCache<Reference>(4, key => new Reference(key));

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 100; i++)
            {
                // Keys colliding in a slot evict each other; each still gets its own reference.
                Assert.Equal($"c{i}", cache.Get($"c{i}").Key);
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 8)]
    [InlineData(8192, 8192)]
    public void Ctor_SlotCount_RoundedUpToPowerOfTwo(int requested, int expected)
    {
        Assert.Equal(expected, new ReferenceCache<Reference>(requested, key => new Reference(key)).Slots);
    }

    [Fact]
    public void Ctor_NoSlots_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReferenceCache<Reference>(0, key => new Reference(key)));
    }

    [Fact]
    public async Task Get_ConcurrentCallers_AlwaysReturnReferenceForTheirKey()
    {
        var cache = new ReferenceCache<Reference>(8, key => new Reference(key));
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                var key = $"k{(i + w) % 37}";
                Assert.Equal(key, cache.Get(key).Key);
            }
        }));

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
