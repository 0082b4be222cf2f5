using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>Signing keys the test edges trust, and tokens signed (or mis-signed) with them.</summary>
public sealed class TestTokens
{
    public const string Issuer = "ogw-tests";
    public const string Audience = "ogw";
    public const string HmacKeyId = "hs";
    public const string RsaKeyId = "rs";
    public const string EcKeyId = "es";
    public const string HmacSecret = "integration-test-secret-0123456789abcdef";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public string RsaPublicPem => _rsa.ExportSubjectPublicKeyInfoPem();

    public string EcPublicPem => _ec.ExportSubjectPublicKeyInfoPem();

    /// <summary>Configuration entries for the edge's <c>Gateway:Auth</c> section.</summary>
    public IEnumerable<KeyValuePair<string, string?>> AuthConfiguration() =>
    [
        new("Gateway:Auth:Issuer", Issuer),
        new("Gateway:Auth:Audience", Audience),
        new("Gateway:Auth:Keys:0:Id", HmacKeyId),
        new("Gateway:Auth:Keys:0:Algorithm", "HS256"),
        new("Gateway:Auth:Keys:0:Secret", HmacSecret),
        new("Gateway:Auth:Keys:1:Id", RsaKeyId),
        new("Gateway:Auth:Keys:1:Algorithm", "RS256"),
        new("Gateway:Auth:Keys:1:PublicKeyPem", RsaPublicPem),
        new("Gateway:Auth:Keys:2:Id", EcKeyId),
        new("Gateway:Auth:Keys:2:Algorithm", "ES256"),
        new("Gateway:Auth:Keys:2:PublicKeyPem", EcPublicPem),
        new("Gateway:Auth:DefaultChannels:0", "*"),
    ];

    public string Hs256(string sub, TimeSpan? lifetime = null, string issuer = Issuer, string audience = Audience,
        string secret = HmacSecret, DateTime? notBefore = null, string[]? channels = null) =>
        Create(sub, lifetime, issuer, audience, notBefore, channels,
            new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)) { KeyId = HmacKeyId }, SecurityAlgorithms.HmacSha256));

    /// <summary>HS256 signed with the trusted secret but naming a key id the edge does not have.</summary>
    public string Hs256WithKid(string sub, string? kid) =>
        Create(sub, null, Issuer, Audience, null, null,
            new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(HmacSecret)) { KeyId = kid }, SecurityAlgorithms.HmacSha256));

    public string Rs256(string sub) =>
        Create(sub, null, Issuer, Audience, null, null, new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = RsaKeyId }, SecurityAlgorithms.RsaSha256));

    public string Es256(string sub) =>
        Create(sub, null, Issuer, Audience, null, null, new SigningCredentials(new ECDsaSecurityKey(_ec) { KeyId = EcKeyId }, SecurityAlgorithms.EcdsaSha256));

    /// <summary>The classic key-confusion attack: HS256 with the RSA *public* key as the HMAC secret.</summary>
    public string Hs256WithRsaPublicKey(string sub) =>
        Create(sub, null, Issuer, Audience, null, null,
            new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(RsaPublicPem)) { KeyId = RsaKeyId }, SecurityAlgorithms.HmacSha256));

    /// <summary>A correctly signed HS256 token whose claims are exactly <paramref name="payloadJson"/>.</summary>
    public static string Hs256Payload(string payloadJson) =>
        new JsonWebTokenHandler().CreateToken(payloadJson,
            new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(HmacSecret)) { KeyId = HmacKeyId }, SecurityAlgorithms.HmacSha256));

    /// <summary>An unsigned token (<c>alg: none</c>) with otherwise valid claims.</summary>
    public static string AlgNone(string sub)
    {
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode($$"""{"sub":"{{sub}}","iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{exp}}}""");
        return $"{header}.{payload}.";
    }

    private static string Create(string sub, TimeSpan? lifetime, string issuer, string audience, DateTime? notBefore, string[]? channels, SigningCredentials credentials)
    {
        var now = DateTime.UtcNow;
        var nbf = notBefore ?? now.AddMinutes(-1);
        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        var claims = new Dictionary<string, object>();
        if (channels is not null)
        {
            claims["channels"] = channels;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", sub)]),
            Claims = claims,
            NotBefore = nbf < expires ? nbf : null,
            IssuedAt = nbf < expires ? nbf : null,
            Expires = expires,
            SigningCredentials = credentials,
        });
    }
}
