namespace OrleansGateway.Grains;

/// <summary>
/// An idempotency key already accepted from this sender was sent again with different data. Serializable and
/// without an inner exception, because it crosses the grain boundary to edges and backends.
/// </summary>
[GenerateSerializer, Alias("ogw.IdempotencyKeyReusedException")]
public sealed class IdempotencyKeyReusedException : Exception
{
    public IdempotencyKeyReusedException(string message) : base(message)
    {
    }
}
