using OrleansGateway.Grains.MessageLogs;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Edges;

namespace OrleansGateway.Tests.MessageLogs;

public sealed class InboundDeduplicatorTests
{
    private static InboundMessage Record(string source, long position) => new("backend", [], source, position);

    [Fact]
    public void IsDuplicate_NotYetAccepted_FalseSoAFailedAppendIsRetried()
    {
        var dedup = new InboundDeduplicator();
        Assert.False(dedup.IsDuplicate(Record("t/0", 5)));
        Assert.False(dedup.IsDuplicate(Record("t/0", 5))); // the first append failed: the redelivery is new
        dedup.Accepted(Record("t/0", 5));
        Assert.True(dedup.IsDuplicate(Record("t/0", 5)));
        Assert.True(dedup.IsDuplicate(Record("t/0", 4)));
        Assert.False(dedup.IsDuplicate(Record("t/0", 6)));
        Assert.False(dedup.IsDuplicate(Record("t/1", 5))); // positions are per partition
    }

    [Fact]
    public void IsDuplicate_NoSource_NeverDuplicate()
    {
        var dedup = new InboundDeduplicator();
        dedup.Accepted(new InboundMessage("backend", []));
        Assert.False(dedup.IsDuplicate(new InboundMessage("backend", [])));
    }

    [Fact]
    public void Merge_LoadedPositions_HigherOfEachKept()
    {
        var dedup = new InboundDeduplicator();
        dedup.Accepted(Record("t/0", 10));
        dedup.Merge(new Dictionary<string, long> { ["t/0"] = 7, ["t/1"] = 3 });
        Assert.True(dedup.IsDuplicate(Record("t/0", 9)));
        Assert.True(dedup.IsDuplicate(Record("t/1", 3)));
        Assert.False(dedup.IsDuplicate(Record("t/1", 4)));
    }

    [Fact]
    public void ToSnapshot_NothingAccepted_EmptyAndRestoresToNoDuplicates()
    {
        var dedup = new InboundDeduplicator();
        var snapshot = dedup.ToSnapshot();
        Assert.Empty(snapshot);

        var restored = new InboundDeduplicator();
        restored.Restore(snapshot);
        Assert.False(restored.IsDuplicate(Record("t/0", 0)));
        restored.Accepted(Record("t/0", 0));
        Assert.True(restored.IsDuplicate(Record("t/0", 0)));
    }
}
