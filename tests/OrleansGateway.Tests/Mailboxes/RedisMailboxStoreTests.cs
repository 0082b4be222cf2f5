using System.Text;
using OrleansGateway.Grains;
using OrleansGateway.Grains.Mailboxes;

namespace OrleansGateway.Tests.Mailboxes;

public sealed class RedisMailboxStoreTests
{
    [Theory]
    [InlineData("alice", "{\"text\":\"hi\"}")]
    [InlineData("", "null")]
    [InlineData("ünïcödé-backend", "[1,2,3]")]
    public void EncodeDecode_RoundTrip_Identical(string from, string json)
    {
        var message = new MailboxMessage(42, from, Encoding.UTF8.GetBytes(json), 1_700_000_000_123);
        var decoded = RedisMailboxStore.Decode(RedisMailboxStore.Encode(message));
        Assert.Equal(message.Seq, decoded.Seq);
        Assert.Equal(message.From, decoded.From);
        Assert.Equal(message.AcceptedAtUnixMs, decoded.AcceptedAtUnixMs);
        Assert.Equal(json, Encoding.UTF8.GetString(decoded.Data));
    }

    [Fact]
    public void RemoveLast_AfterFailedPersist_SeqAndRetentionAsBefore()
    {
        var mailbox = new Mailbox(10, TimeSpan.FromMinutes(5), TimeProvider.System);
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
        var mailbox = new Mailbox(10, TimeSpan.FromMinutes(5), TimeProvider.System);
        var first = mailbox.Append("a", "1"u8.ToArray());
        mailbox.Append("a", "2"u8.ToArray());
        Assert.Throws<InvalidOperationException>(() => mailbox.RemoveLast(first));
    }
}
