using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>
/// Checks <c>Authorization: apikey &lt;key&gt;</c> against the configured keys. Keys are compared as SHA-256 digests
/// with <see cref="CryptographicOperations.FixedTimeEquals"/>, and every key is compared every time: neither the length
/// nor the position of a matching key shows in the response time.
/// </summary>
internal sealed class ApiKeys
{
    /// <summary>The <c>Authorization</c> scheme: <c>apikey &lt;key&gt;</c> (also the OpenAPI security scheme's name).</summary>
    internal const string Scheme = "apikey";
    private readonly (byte[] Digest, ServerApiKey Key)[] _keys;

    public ApiKeys(IOptions<ServerApiOptions> options) =>
        _keys = options.Value.Keys.Select(k => (SHA256.HashData(Encoding.UTF8.GetBytes(k.Key)), k)).ToArray();

    /// <summary>The key the header carries, or null when it is missing, malformed or unknown.</summary>
    public ServerApiKey? Authenticate(string? authorization)
    {
        if (authorization is null
            || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            || authorization.Length <= Scheme.Length + 1
            || authorization[Scheme.Length] != ' ')
        {
            return null;
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(authorization.AsSpan(Scheme.Length + 1).Trim().ToString()), digest);
        ServerApiKey? match = null;
        foreach (var (candidate, key) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(candidate, digest))
            {
                match ??= key;
            }
        }

        return match;
    }
}
