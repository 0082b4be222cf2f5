using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.Tests.Sessions;

public sealed class SessionOutboxTests
{
    private static byte[] Frame(int n) => [(byte)n];

    [Fact]
    public void TryWrite_UpToCapacity_AcceptsThenRefusesWhenFull()
    {
        var outbox = new SessionOutbox(capacity: 3, new object());
        Assert.True(outbox.TryWrite(Frame(1)));
        Assert.True(outbox.TryWrite(Frame(2)));
        Assert.True(outbox.TryWrite(Frame(3)));
        Assert.False(outbox.TryWrite(Frame(4)));
        Assert.Equal(3, outbox.Count);
    }

    [Fact]
    public void TryRead_ManyFramesAcrossRingGrowth_ReturnsThemInWriteOrder()
    {
        var outbox = new SessionOutbox(capacity: 200, new object());
        var read = new List<int>();
        var written = 0;
        for (var round = 0; round < 5; round++)
        {
            // Interleaved writes and reads wrap the ring, grow it and drop it again.
            for (var i = 0; i < 7 + (round * 9); i++)
            {
                Assert.True(outbox.TryWrite(Frame(written++ % 256)));
            }

            for (var i = 0; i < 3; i++)
            {
                Assert.True(outbox.TryRead(out var frame));
                read.Add(frame[0]);
            }
        }

        while (outbox.TryRead(out var frame))
        {
            read.Add(frame[0]);
        }

        Assert.Equal(Enumerable.Range(0, written).Select(n => n % 256), read);
        Assert.Equal(0, outbox.Count);
    }

    [Fact]
    public void TryWrite_FullThenOneRead_AcceptsOneMore()
    {
        var outbox = new SessionOutbox(capacity: 2, new object());
        Assert.True(outbox.TryWrite(Frame(1)));
        Assert.True(outbox.TryWrite(Frame(2)));
        Assert.False(outbox.TryWrite(Frame(3)));
        Assert.True(outbox.TryRead(out _));
        Assert.True(outbox.TryWrite(Frame(3)));
        Assert.False(outbox.TryWrite(Frame(4)));
    }

    [Fact]
    public async Task WaitToReadAsync_WaitingThenWrite_CompletesTrue()
    {
        var outbox = new SessionOutbox(capacity: 4, new object());
        var wait = outbox.WaitToReadAsync();
        Assert.False(wait.IsCompleted);
        outbox.TryWrite(Frame(7));
        Assert.True(await wait);
        Assert.True(outbox.TryRead(out var frame));
        Assert.Equal(7, frame[0]);
    }

    [Fact]
    public async Task WaitToReadAsync_Reused_CompletesEachTime()
    {
        var outbox = new SessionOutbox(capacity: 4, new object());
        for (var i = 0; i < 3; i++)
        {
            var wait = outbox.WaitToReadAsync();
            Assert.False(wait.IsCompleted);
            outbox.TryWrite(Frame(i));
            Assert.True(await wait);
            Assert.True(outbox.TryRead(out _));
        }
    }

    [Fact]
    public async Task Complete_WithQueuedFrames_ReaderDrainsThenGetsFalse()
    {
        var outbox = new SessionOutbox(capacity: 4, new object());
        outbox.TryWrite(Frame(1));
        outbox.TryWrite(Frame(2));
        outbox.Complete();
        Assert.False(outbox.TryWrite(Frame(3)));
        Assert.False(outbox.IsCompleted);

        Assert.True(await outbox.WaitToReadAsync());
        Assert.True(outbox.TryRead(out _));
        Assert.True(outbox.TryRead(out _));
        Assert.True(outbox.IsCompleted);
        Assert.False(await outbox.WaitToReadAsync());
    }

    [Fact]
    public async Task Complete_WhileReaderWaits_CompletesFalse()
    {
        var outbox = new SessionOutbox(capacity: 4, new object());
        var wait = outbox.WaitToReadAsync();
        outbox.Complete();
        Assert.False(await wait);
        Assert.True(outbox.IsCompleted);
    }

    [Fact]
    public void WaitToReadAsync_SecondConcurrentWait_Throws()
    {
        var outbox = new SessionOutbox(capacity: 4, new object());
        _ = outbox.WaitToReadAsync();
        Assert.Throws<InvalidOperationException>(() => outbox.WaitToReadAsync());
    }
}
