using System.Buffers.Binary;
using System.Text;
using StackExchange.Redis;

namespace OrleansGateway.Grains.Mailboxes;

/// <summary>
/// One Redis list per mailbox (<c>ogw:{kind}:{key}</c>), newest last, trimmed to the retention count and expiring
/// after twice the retention age of inactivity. Append = RPUSH + LTRIM + PEXPIRE in one pipelined batch. A message
/// from Kafka also sets its partition's offset in a hash beside the list (<c>…:in</c>) in the same batch, so the
/// grain that reloads after a crash still drops the redelivery of a record it had accepted.
/// </summary>
internal sealed class RedisMailboxStore(IConnectionMultiplexer redis, string prefix) : IMailboxStore
{
    public async Task<StoredLog> LoadAsync(string kind, string key)
    {
        var batch = redis.GetDatabase().CreateBatch();
        var list = batch.ListRangeAsync(Key(kind, key));
        var inbound = batch.HashGetAllAsync(InboundKey(kind, key));
        batch.Execute();
        await Task.WhenAll(list, inbound);

        var messages = (await list).Select(v => Decode((byte[])v!)).ToArray();
        var positions = (await inbound).ToDictionary(e => (string)e.Name!, e => (long)e.Value, StringComparer.Ordinal);
        return new StoredLog(messages.Length == 0 ? null : new MailboxSnapshot(messages[^1].Seq, messages), positions);
    }

    public async Task AppendAsync(string kind, string key, MailboxMessage message, int maxMessages, TimeSpan maxAge, InboundPosition? inbound = null)
    {
        var redisKey = Key(kind, key);
        var batch = redis.GetDatabase().CreateBatch();
        var push = batch.ListRightPushAsync(redisKey, Encode(message));
        var trim = batch.ListTrimAsync(redisKey, -maxMessages, -1);
        var expire = batch.KeyExpireAsync(redisKey, maxAge * 2);
        var position = Task.CompletedTask;
        var positionExpire = Task.CompletedTask;
        if (inbound is { } from)
        {
            position = batch.HashSetAsync(InboundKey(kind, key), from.Source, from.Position);
            positionExpire = batch.KeyExpireAsync(InboundKey(kind, key), maxAge * 2);
        }

        batch.Execute();
        await Task.WhenAll(push, trim, expire, position, positionExpire);
    }

    private RedisKey Key(string kind, string key) => $"{prefix}:{kind}:{key}";

    private RedisKey InboundKey(string kind, string key) => $"{prefix}:{kind}:{key}:in";

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
