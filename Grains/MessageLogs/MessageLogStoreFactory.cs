using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace OrleansGateway.Grains.MessageLogs;

/// <summary>The silo's one mailbox store (null for <see cref="MailboxDurability.Memory"/>), connected on first use.</summary>
internal sealed class MessageLogStoreFactory
{
    /// <summary>
    /// The clustering Redis (<c>GatewayClusterOptions.Redis</c>), read by key: grains do not reference the hosting
    /// library that binds it. Like it, falls back to the <c>Redis</c> connection string.
    /// </summary>
    internal const string ClusterRedisKey = "Gateway:Cluster:Redis";

    private readonly Lazy<Task<IMessageLogStore?>> _store;

    public MessageLogStoreFactory(IOptions<MailboxOptions> options, IConfiguration configuration, IOptions<ClusterOptions> cluster, ILogger<RedisMessageLogStore> logger)
    {
        Durability = options.Value.Durability;
        _store = new Lazy<Task<IMessageLogStore?>>(async () =>
        {
            if (Durability == MailboxDurability.Memory)
            {
                return null;
            }

            var connection = RedisConnection(options.Value, configuration)
                ?? throw new InvalidOperationException($"{MailboxOptions.SectionName}:Durability=Redis needs {MailboxOptions.SectionName}:Redis or {ClusterRedisKey}.");
            // Not aborting when Redis is away at first use: a failed connect would stay cached for the silo's life and
            // its RedisConnectionException (no Orleans codec) would cross grain boundaries; the store's calls fail
            // instead, as MessageLogStoreException, until the multiplexer connects.
            var redisOptions = ConfigurationOptions.Parse(connection);
            redisOptions.AbortOnConnectFail = false;
            var redis = await ConnectionMultiplexer.ConnectAsync(redisOptions);
            return new RedisMessageLogStore(redis, $"ogw:{cluster.Value.ServiceId}", logger);
        });
    }

    public MailboxDurability Durability { get; }

    public Task<IMessageLogStore?> GetAsync() => _store.Value;

    /// <summary>The mailbox Redis, else the clustering Redis; null when neither is configured.</summary>
    public static string? RedisConnection(MailboxOptions options, IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(options.Redis) ? options.Redis
        : (configuration[ClusterRedisKey] ?? configuration.GetConnectionString("Redis")) is { Length: > 0 } clustering ? clustering
        : null;
}

/// <summary>
/// The mailbox store could not persist or load (Redis unreachable, or a write whose outcome is unknown): the message was
/// not accepted. It crosses grain boundaries (the edge answers <c>err unavailable</c>), so it carries the cause as text
/// only: Orleans has no codec for StackExchange.Redis exceptions, and an inner one made the whole reply unserializable.
/// </summary>
[GenerateSerializer, Alias("ogw.MailboxStoreException")]
public sealed class MessageLogStoreException : Exception
{
    public MessageLogStoreException(string message) : base(message)
    {
    }
}
