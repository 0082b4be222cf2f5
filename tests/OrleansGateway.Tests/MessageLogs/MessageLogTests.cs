using System.Text;
using Microsoft.Extensions.Time.Testing;
using OrleansGateway.Grains.MessageLogs;

namespace OrleansGateway.Tests.MessageLogs;

public sealed class MessageLogTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    private MessageLog Create(int max = 5, int maxAgeSeconds = 60) => new(max, TimeSpan.FromSeconds(maxAgeSeconds), _time);

    private static byte[] Data(int n) => Encoding.UTF8.GetBytes(n.ToString());

    [Fact]
    public void Append_Always_SeqIncreasesByOne()
    {
        var mailbox = Create();
        Assert.Equal([1L, 2L, 3L], Enumerable.Range(0, 3).Select(i => mailbox.Append("a", Data(i)).Seq));
        Assert.Equal(3, mailbox.Seq);
    }

    [Fact]
    public void ReadSince_WithinRetention_RecoveredAndInOrder()
    {
        var mailbox = Create();
        for (var i = 0; i < 4; i++)
        {
            mailbox.Append("a", Data(i));
        }

        var result = mailbox.ReadSince(1);
        Assert.True(result.Recovered);
        Assert.Equal([2L, 3L, 4L], result.Replay.Select(m => m.Seq));
    }

    [Fact]
    public void ReadSince_BeyondCountRetention_NotRecoveredReplaysRetained()
    {
        var mailbox = Create(max: 3);
        for (var i = 0; i < 6; i++)
        {
            mailbox.Append("a", Data(i));
        }

        var result = mailbox.ReadSince(2);
        Assert.False(result.Recovered);
        Assert.Equal([4L, 5L, 6L], result.Replay.Select(m => m.Seq));
        Assert.True(mailbox.ReadSince(3).Recovered);
    }

    [Fact]
    public void ReadSince_BeyondAgeRetention_NotRecovered()
    {
        var mailbox = Create(maxAgeSeconds: 10);
        mailbox.Append("a", Data(1));
        _time.Advance(TimeSpan.FromSeconds(11));
        mailbox.Append("a", Data(2));
        var result = mailbox.ReadSince(0);
        Assert.False(result.Recovered);
        Assert.Equal([2L], result.Replay.Select(m => m.Seq));
    }

    [Fact]
    public void ReadSince_CurrentSeq_RecoveredNothingToReplay()
    {
        var mailbox = Create();
        mailbox.Append("a", Data(1));
        var result = mailbox.ReadSince(1);
        Assert.True(result.Recovered);
        Assert.Empty(result.Replay);
    }

    [Fact]
    public void ReadSince_SeqNeverIssued_NotRecovered()
    {
        // The client saw seq 9 but the mailbox (lost in a crash) is at 1: nothing can be vouched for.
        var mailbox = Create();
        mailbox.Append("a", Data(1));
        Assert.False(mailbox.ReadSince(9).Recovered);
    }

    [Fact]
    public void Snapshot_RoundTrip_KeepsSeqAndMessages()
    {
        var mailbox = Create();
        for (var i = 0; i < 3; i++)
        {
            mailbox.Append("a", Data(i));
        }

        var copy = new MessageLog(5, TimeSpan.FromSeconds(60), _time, mailbox.ToSnapshot());
        Assert.Equal(3, copy.Seq);
        Assert.Equal(4, copy.Append("a", Data(9)).Seq);
        Assert.Equal([1L, 2L, 3L, 4L], copy.ReadSince(0).Replay.Select(m => m.Seq));
    }

    [Fact]
    public void ReadSince_EverythingAgedOut_NotRecoveredNothingReplayed()
    {
        var mailbox = Create(maxAgeSeconds: 10);
        mailbox.Append("a", Data(1));
        mailbox.Append("a", Data(2));
        _time.Advance(TimeSpan.FromSeconds(11));

        var result = mailbox.ReadSince(0);
        Assert.False(result.Recovered);
        Assert.Empty(result.Replay);
        Assert.Equal(0, mailbox.Count);
        Assert.Equal(3, mailbox.Append("a", Data(3)).Seq);
    }

    [Fact]
    public void RemoveLast_OnlyMessage_EmptyAndSeqTakenBack()
    {
        var mailbox = Create();
        var message = mailbox.Append("a", Data(1));
        mailbox.RemoveLast(message);

        Assert.Equal(0, mailbox.Count);
        Assert.Equal(0, mailbox.Seq);
        Assert.Empty(mailbox.ToSnapshot().Messages);
        Assert.Equal(1, mailbox.Append("a", Data(1)).Seq);
    }

    [Fact]
    public void RemoveLast_AfterFailedPersist_SeqAndRetentionAsBefore()
    {
        var mailbox = Create(max: 10);
        mailbox.Append("a", "1"u8.ToArray());
        var failed = mailbox.Append("a", "2"u8.ToArray());
        mailbox.RemoveLast(failed);
        Assert.Equal(1, mailbox.Seq);
        Assert.Equal(2, mailbox.Append("a", "3"u8.ToArray()).Seq);
        Assert.Equal(["1", "3"], mailbox.ReadSince(0).Replay.Select(m => Encoding.UTF8.GetString(m.Data)));
    }

    [Fact]
    public void RemoveLast_NotTheLast_Throws()
    {
        var mailbox = Create(max: 10);
        var first = mailbox.Append("a", "1"u8.ToArray());
        mailbox.Append("a", "2"u8.ToArray());
        Assert.Throws<InvalidOperationException>(() => mailbox.RemoveLast(first));
    }

    [Fact]
    public void Adopt_MessageTheStoreHeldBeyondMemory_ReplayedAndItsSeqNeverGivenAgain()
    {
        var mailbox = Create();
        mailbox.Append("a", Data(1));
        var lostReply = mailbox.Append("a", Data(2));
        mailbox.RemoveLast(lostReply);

        mailbox.Adopt(lostReply);

        Assert.Equal(3, mailbox.Append("a", Data(3)).Seq);
        Assert.Equal([1L, 2L, 3L], mailbox.ReadSince(0).Replay.Select(m => m.Seq));
    }

    [Fact]
    public void Adopt_SeqAlreadyGiven_Throws()
    {
        var mailbox = Create();
        var message = mailbox.Append("a", Data(1));
        Assert.Throws<InvalidOperationException>(() => mailbox.Adopt(message));
    }
}
