using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrleansGateway.EdgeHost.Configuration;

namespace OrleansGateway.EdgeHost.Auth;

/// <summary>
/// Validates a client's JWT before the WebSocket upgrade: signature with a configured key and that key's
/// algorithm only (no <c>none</c>, no HS/RS confusion), issuer, audience, lifetime, and a valid <c>sub</c>.
/// </summary>
internal sealed partial class JwtAuthenticator
{
    private const string ChannelsClaim = "channels";

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TimeProvider _time;
    private readonly ILogger<JwtAuthenticator> _logger;
    private volatile State _state;

    public JwtAuthenticator(IOptionsMonitor<AuthOptions> options, TimeProvider time, ILogger<JwtAuthenticator> logger)
    {
        _time = time;
        _logger = logger;
        _state = Build(options.CurrentValue);
        // Keys rotate without a restart: a reloaded configuration (e.g. Gateway:Auth:KeysFile) swaps the whole state.
        // A singleton for the host's lifetime: the change subscription lives as long as the options monitor.
        options.OnChange(updated =>
        {
            var result = new AuthOptionsValidator().Validate(null, updated);
            if (result.Failed)
            {
                Log.ReloadRejected(_logger, result.FailureMessage);
                return;
            }

            _state = Build(updated);
            Log.Reloaded(_logger, updated.Keys.Count);
        });
    }

    /// <summary>Validates <paramref name="token"/>; null when it must be refused (the reason is logged, not told).</summary>
    public async Task<ClientIdentity?> AuthenticateAsync(string? token)
    {
        var state = _state;
        if (string.IsNullOrEmpty(token) || token.Length > state.Options.MaxTokenLength)
        {
            Log.Refused(_logger, token is null ? "missing token" : "token empty or too long");
            return null;
        }

        var result = await _handler.ValidateTokenAsync(token, state.Parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            Log.Refused(_logger, result.Exception?.GetType().Name ?? "invalid");
            return null;
        }

        if (!ClientIds.IsValid(jwt.Subject))
        {
            Log.Refused(_logger, "invalid sub");
            return null;
        }

        var channels = ReadChannels(jwt);
        return new ClientIdentity(jwt.Subject, channels.Length > 0 ? channels : state.Options.DefaultChannels, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

    /// <summary>
    /// The token's <c>channels</c> claim as the claim values <see cref="JsonWebToken.Claims"/> would list for it (one per
    /// array item), read from the payload alone: <c>Claims</c> builds a <see cref="System.Security.Claims.Claim"/> for
    /// every payload field of every token (connect cost). A string or an array of strings (docs/protocol.md; the library
    /// keeps an array as a <see cref="JsonElement"/>) is read directly; any other shape goes the old way, so what it
    /// yields is unchanged.
    /// </summary>
    private static string[] ReadChannels(JsonWebToken jwt)
    {
        if (!jwt.TryGetPayloadValue<object>(ChannelsClaim, out var value))
        {
            return [];
        }

        if (value is string single)
        {
            return [single];
        }

        if (value is JsonElement { ValueKind: JsonValueKind.Array } items)
        {
            var channels = new string[items.GetArrayLength()];
            var i = 0;
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    return ReadChannelsFromClaims(jwt);
                }

                channels[i++] = item.GetString()!;
            }

            return channels;
        }

        return ReadChannelsFromClaims(jwt);
    }

    private static string[] ReadChannelsFromClaims(JsonWebToken jwt) =>
        jwt.Claims.Where(c => c.Type == ChannelsClaim).Select(c => c.Value).ToArray();

    private State Build(AuthOptions options)
    {
        var keys = options.Keys.Select(CreateKey).ToList();
        // Resolved per token: built once here, so a token naming its kid costs a lookup, not a query.
        var byKid = keys.Where(k => k.KeyId is not null).GroupBy(k => k.KeyId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            IssuerSigningKeys = keys,
            // A kid must name a configured key (never "try every key"); tokens without kid may use any of them.
            TryAllIssuerSigningKeys = false,
            IssuerSigningKeyResolver = (_, _, kid, _) => string.IsNullOrEmpty(kid) ? keys : byKid.GetValueOrDefault(kid, []),
            // Only algorithms of configured keys: a token cannot pick its own (alg:none, HS256 signed with an RSA public key).
            ValidAlgorithms = options.Keys.Select(k => k.Algorithm).Distinct().ToArray(),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = options.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, p) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                return expires is { } exp && exp + p.ClockSkew > now && (notBefore is not { } nbf || nbf - p.ClockSkew <= now);
            },
        };
        return new State(options, parameters);
    }

    private sealed record State(AuthOptions Options, TokenValidationParameters Parameters);

    private static SecurityKey CreateKey(SigningKeyOptions key)
    {
        switch (key.Algorithm)
        {
            case "HS256":
                return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key.Secret!)) { KeyId = key.Id };
            case "RS256":
                var rsa = RSA.Create();
                rsa.ImportFromPem(key.PublicKeyPem);
                return new RsaSecurityKey(rsa) { KeyId = key.Id };
            default:
                var ecdsa = ECDsa.Create();
                ecdsa.ImportFromPem(key.PublicKeyPem);
                return new ECDsaSecurityKey(ecdsa) { KeyId = key.Id };
        }
    }

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Debug, "Connection refused with 401: {Reason}", EventName = "AuthRefused")]
        public static partial void Refused(ILogger logger, string reason);

        [LoggerMessage(101, LogLevel.Information, "Signing keys reloaded: {Keys} key(s)", EventName = "AuthKeysReloaded")]
        public static partial void Reloaded(ILogger logger, int keys);

        [LoggerMessage(102, LogLevel.Error, "Reloaded auth configuration is invalid and was ignored (the previous keys stay): {Failures}", EventName = "AuthReloadRejected")]
        public static partial void ReloadRejected(ILogger logger, string? failures);
    }
}
