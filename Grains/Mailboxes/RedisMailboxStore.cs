using System.Buffers.Binary;
using System.Text;
using StackExchange.Redis;

namespace OrleansGateway.Grains.Mailboxes;

/// <summary>
/// One Redis list per mailbox (<c>ogw:{kind}:{key}</c>), newest last, trimmed to the retention count and expiring
/// after twice the retention age of inactivity. Append = RPUSH + LTRIM + PEXPIRE in one pipelined batch.
/// </summary>
internal sealed class RedisMailboxStore(IConnectionMultiplexer redis, string prefix) : IMailboxStore
{
    public async Task<MailboxSnapshot?> LoadAsync(string kind, string key)
    {
        var values = await redis.GetDatabase().ListRangeAsync(Key(kind, key));
        if (values.Length == 0)
        {
            return null;
        }

        var messages = values.Select(v => Decode((byte[])v!)).ToArray();
        return new MailboxSnapshot(messages[^1].Seq, messages);
    }

    public async Task AppendAsync(string kind, string key, MailboxMessage message, int maxMessages, TimeSpan maxAge)
    {
        var redisKey = Key(kind, key);
        var batch = redis.GetDatabase().CreateBatch();
        var push = batch.ListRightPushAsync(redisKey, Encode(message));
        var trim = batch.ListTrimAsync(redisKey, -maxMessages, -1);
        var expire = batch.KeyExpireAsync(redisKey, maxAge * 2);
        batch.Execute();
        await Task.WhenAll(push, trim, expire);
    }

    private RedisKey Key(string kind, string key) => $"{prefix}:{kind}:{key}";

    /// <summary>[seq:8][acceptedAt:8][fromLength:2][from][data].</summary>
    internal static byte[] Encode(MailboxMessage message)
    {
        var from = Encoding.UTF8.GetBytes(message.From);
        var buffer = new byte[18 + from.Length + message.Data.Length];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, message.Seq);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(8), message.AcceptedAtUnixMs);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(16), checked((ushort)from.Length));
        from.CopyTo(buffer.AsSpan(18));
        message.Data.CopyTo(buffer.AsSpan(18 + from.Length));
        return buffer;
    }

    internal static MailboxMessage Decode(byte[] buffer)
    {
        var seq = BinaryPrimitives.ReadInt64LittleEndian(buffer);
        var acceptedAt = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(8));
        var fromLength = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(16));
        var from = Encoding.UTF8.GetString(buffer, 18, fromLength);
        return new MailboxMessage(seq, from, buffer[(18 + fromLength)..], acceptedAt);
    }
}
