using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OrleansGateway.Grains;

/// <summary>
/// What edges and grains agree on about idempotency keys (docs/protocol.md, "Idempotency keys"): which keys are valid,
/// and the hash of the data a key was first accepted with. The hash is computed where the data is (the edge for
/// <c>up</c>, the grain for <c>send</c>/<c>pub</c>), so payloads are never kept twice and never sent twice.
/// </summary>
public static class IdempotencyKeys
{
    /// <summary>Longest key, in characters.</summary>
    public const int MaxLength = 64;

    /// <summary>True for 1–<see cref="MaxLength"/> characters.</summary>
    public static bool IsValid(string? key) => key is { Length: > 0 and <= MaxLength };

    /// <summary>
    /// The first 8 bytes of the SHA-256 of <paramref name="data"/>: a key reused with other data is told apart with a
    /// chance of 2⁻⁶⁴ of missing it. SHA-256 because it is in the base library (hardware-accelerated); a non-keyed
    /// frame never pays for it.
    /// </summary>
    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data, digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }

    /// <summary>Throws <see cref="ArgumentException"/> (serializable: it reaches backends as is) for an invalid key.</summary>
    public static void ThrowIfInvalid(string? key)
    {
        if (!IsValid(key))
        {
            throw new ArgumentException($"An idempotency key must be 1-{MaxLength} characters.", nameof(key));
        }
    }
}
