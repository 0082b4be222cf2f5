using System.Security.Cryptography;
using System.Text;
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

        var channels = jwt.Claims.Where(c => c.Type == "channels").Select(c => c.Value).ToArray();
        return new ClientIdentity(jwt.Subject, channels.Length > 0 ? channels : state.Options.DefaultChannels, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

    private State Build(AuthOptions options)
    {
        var keys = options.Keys.Select(CreateKey).ToList();
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            IssuerSigningKeys = keys,
            // A kid must name a configured key (never "try every key"); tokens without kid may use any of them.
            TryAllIssuerSigningKeys = false,
            IssuerSigningKeyResolver = (_, _, kid, _) => string.IsNullOrEmpty(kid) ? keys : keys.Where(k => k.KeyId == kid),
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
