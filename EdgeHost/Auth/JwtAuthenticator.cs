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
    private readonly TokenValidationParameters _parameters;
    private readonly AuthOptions _options;
    private readonly ILogger<JwtAuthenticator> _logger;

    public JwtAuthenticator(IOptions<AuthOptions> options, TimeProvider time, ILogger<JwtAuthenticator> logger)
    {
        _options = options.Value;
        _logger = logger;
        var keys = _options.Keys.Select(CreateKey).ToList();
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            IssuerSigningKeys = keys,
            // A kid must name a configured key (never "try every key"); tokens without kid may use any of them.
            TryAllIssuerSigningKeys = false,
            IssuerSigningKeyResolver = (_, _, kid, _) => string.IsNullOrEmpty(kid) ? keys : keys.Where(k => k.KeyId == kid),
            // Only algorithms of configured keys: a token cannot pick its own (alg:none, HS256 signed with an RSA public key).
            ValidAlgorithms = _options.Keys.Select(k => k.Algorithm).Distinct().ToArray(),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = _options.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, p) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return expires is { } exp && exp + p.ClockSkew > now && (notBefore is not { } nbf || nbf - p.ClockSkew <= now);
            },
        };
    }

    public IReadOnlyList<string> DefaultChannels => _options.DefaultChannels;

    /// <summary>Validates <paramref name="token"/>; null when it must be refused (the reason is logged, not told).</summary>
    public async Task<ClientIdentity?> AuthenticateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > _options.MaxTokenLength)
        {
            Log.Refused(_logger, token is null ? "missing token" : "token empty or too long");
            return null;
        }

        var result = await _handler.ValidateTokenAsync(token, _parameters);
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
        return new ClientIdentity(jwt.Subject, channels.Length > 0 ? channels : _options.DefaultChannels, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

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
    }
}
