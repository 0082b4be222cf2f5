using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace OrleansGateway.Grains.MessageLogs;

/// <summary>
/// One Redis list per mailbox (<c>ogw:{kind}:{key}</c>), newest last, trimmed to the retention count and expiring
/// after twice the retention age of inactivity. A message from Kafka also sets its partition's offset in a hash beside
/// the list (<c>…:in</c>) in the same write, so the grain that reloads after a crash still drops the redelivery of a
/// record it had accepted; an idempotency key goes likewise into a sorted set by seq (<c>…:keys</c>). Appends are one script, so a write whose reply was lost cannot leave a second message under
/// the same seq: the script refuses a seq the list already holds and answers what it holds.
/// Redis errors leave as <see cref="MessageLogStoreException"/>: they cross grain boundaries, and Orleans has no codec
/// for StackExchange.Redis exceptions.
/// </summary>
internal sealed partial class RedisMessageLogStore(IConnectionMultiplexer redis, string prefix, ILogger logger) : IMessageLogStore
{
    // 1 while Redis is failing: the first failure of an outage is logged with its exception, then nothing until a call
    // succeeds again (an outage under load fails thousands of sends a second; each edge logs its own failed calls).
    private int _failing;

    // KEYS: log, inbound positions, idempotency keys. ARGV: message, seq, max messages, ttl ms, source, position, key
    // (the last three empty when absent). The seq is read from the newest element's first 8 bytes (Encode's layout). A
    // list that lost data (expired, flushed) is appended to whatever its last seq: only a seq at or below the newest is
    // refused. An idempotency key goes into a sorted set by seq in the same script, so it is stored if and only if its
    // message is; entries below the oldest retained seq are trimmed with it (a keyed append only: unkeyed ones cost
    // what they did).
    private const string AppendScript = """
        local newest = redis.call('LINDEX', KEYS[1], -1)
        local seq = tonumber(ARGV[2])
        if newest and struct.unpack('<i8', newest) >= seq then
            local held = redis.call('LRANGE', KEYS[1], 0, -1)
            for i = #held, 1, -1 do
                if struct.unpack('<i8', held[i]) == seq then
                    return held[i]
                end
            end
            return newest
        end
        redis.call('RPUSH', KEYS[1], ARGV[1])
        redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        if ARGV[5] ~= '' then
            redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
            redis.call('PEXPIRE', KEYS[2], ARGV[4])
        end
        if ARGV[7] ~= '' then
            redis.call('ZADD', KEYS[3], seq, ARGV[7])
            local oldest = struct.unpack('<i8', redis.call('LINDEX', KEYS[1], 0))
            redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', oldest - 1)
            redis.call('PEXPIRE', KEYS[3], ARGV[4])
        end
        return false
        """;

    public async Task<StoredLog> LoadAsync(string kind, string key)
    {
        try
        {
            var stored = await ReadAsync(kind, key);
            Succeeded();
            return stored;
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
        {
            throw Failed(ex, $"loading {kind} {key} failed");
        }
    }

    public async Task<StreamMessage?> AppendAsync(
        string kind, string key, StreamMessage message, int maxMessages, TimeSpan maxAge, InboundPosition? inbound = null, IdempotencyKeyRecord? idempotencyKey = null)
    {
        RedisValue[] args =
        [
            Encode(message), message.Seq, maxMessages, (long)(maxAge * 2).TotalMilliseconds,
            inbound?.Source ?? RedisValue.EmptyString, inbound is { } from ? from.Position : RedisValue.EmptyString,
            idempotencyKey is null ? RedisValue.EmptyString : EncodeKey(idempotencyKey),
        ];
        RedisResult held;
        try
        {
            held = await redis.GetDatabase().ScriptEvaluateAsync(AppendScript, [Key(kind, key), InboundKey(kind, key), IdempotencyKey(kind, key)], args);
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
        {
            // Ambiguous: a reply lost after Redis ran the script looks the same as a write that never arrived.
            throw Failed(ex, $"persisting seq {message.Seq} to {kind} {key} failed (it may have been stored)");
        }

        Succeeded();
        return held.IsNull ? null : Decode((byte[])held!);
    }

    private async Task<StoredLog> ReadAsync(string kind, string key)
    {
        var batch = redis.GetDatabase().CreateBatch();
        var list = batch.ListRangeAsync(Key(kind, key));
        var inbound = batch.HashGetAllAsync(InboundKey(kind, key));
        var keys = batch.SortedSetRangeByRankWithScoresAsync(IdempotencyKey(kind, key));
        batch.Execute();
        await Task.WhenAll(list, inbound, keys);

        var messages = (await list).Select(v => Decode((byte[])v!)).ToArray();
        var positions = (await inbound).ToDictionary(e => (string)e.Name!, e => (long)e.Value, StringComparer.Ordinal);

        // A key is kept only with its message: its acceptance time is the message's, which bounds the window by age.
        var acceptedAt = messages.ToDictionary(m => m.Seq, m => m.AcceptedAtUnixMs);
        var stored = new List<IdempotencyKeyRecord>();
        foreach (var entry in await keys)
        {
            if (acceptedAt.TryGetValue((long)entry.Score, out var at))
            {
                stored.Add(DecodeKey((byte[])entry.Element!, (long)entry.Score, at));
            }
        }

        return new StoredLog(messages.Length == 0 ? null : new MessageLogSnapshot(messages[^1].Seq, messages), positions) { Keys = stored };
    }

    /// <summary>The detail travels as text: the Redis exception itself stays here, logged once per outage.</summary>
    private MessageLogStoreException Failed(Exception ex, string what)
    {
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            Log.StoreFailing(logger, ex);
        }

        return new MessageLogStoreException($"{what}: {ex.GetType().Name}: {ex.Message}");
    }

    private void Succeeded()
    {
        if (Volatile.Read(ref _failing) == 1 && Interlocked.Exchange(ref _failing, 0) == 1)
        {
            Log.StoreRecovered(logger);
        }
    }

    private RedisKey Key(string kind, string key) => $"{prefix}:{kind}:{key}";

    private RedisKey InboundKey(string kind, string key) => $"{prefix}:{kind}:{key}:in";

    private RedisKey IdempotencyKey(string kind, string key) => $"{prefix}:{kind}:{key}:keys";

    /// <summary>[hash:8][fromLength:2][from][key]; the seq is the member's score.</summary>
    internal static byte[] EncodeKey(IdempotencyKeyRecord record)
    {
        var from = Encoding.UTF8.GetBytes(record.From);
        var key = Encoding.UTF8.GetBytes(record.Key);
        var buffer = new byte[10 + from.Length + key.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, record.Hash);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(8), checked((ushort)from.Length));
        from.CopyTo(buffer.AsSpan(10));
        key.CopyTo(buffer.AsSpan(10 + from.Length));
        return buffer;
    }

    internal static IdempotencyKeyRecord DecodeKey(byte[] buffer, long seq, long acceptedAtUnixMs)
    {
        var hash = BinaryPrimitives.ReadUInt64LittleEndian(buffer);
        var fromLength = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(8));
        var from = Encoding.UTF8.GetString(buffer, 10, fromLength);
        var key = Encoding.UTF8.GetString(buffer, 10 + fromLength, buffer.Length - 10 - fromLength);
        return new IdempotencyKeyRecord(from, key, hash, seq, acceptedAtUnixMs);
    }

    /// <summary>[seq:8][acceptedAt:8][fromLength:2][from][data].</summary>
    internal static byte[] Encode(StreamMessage message)
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

    internal static StreamMessage Decode(byte[] buffer)
    {
        var seq = BinaryPrimitives.ReadInt64LittleEndian(buffer);
        var acceptedAt = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(8));
        var fromLength = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(16));
        var from = Encoding.UTF8.GetString(buffer, 18, fromLength);
        return new StreamMessage(seq, from, buffer[(18 + fromLength)..], acceptedAt);
    }

    private static partial class Log
    {
        [LoggerMessage(40, LogLevel.Error, "The mailbox store (Redis) failed; sends are answered err unavailable until it answers again (later failures of this outage are not logged)", EventName = "MailboxStoreFailing")]
        public static partial void StoreFailing(ILogger logger, Exception exception);

        [LoggerMessage(41, LogLevel.Information, "The mailbox store (Redis) answers again", EventName = "MailboxStoreRecovered")]
        public static partial void StoreRecovered(ILogger logger);
    }
}
