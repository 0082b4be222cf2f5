using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OrleansGateway.Bench.LoadGen;

/// <summary>Mints HS256 JWTs (sub, exp, iss, aud, channels ["*"]) with the secret the servers were started with.</summary>
internal sealed class Tokens(string secret, string issuer, string audience, string keyId = "bench")
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _credentials =
        new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)) { KeyId = keyId }, SecurityAlgorithms.HmacSha256);

    public static Tokens From(Settings s) => new(
        s.OptionalStr("secret") ?? Environment.GetEnvironmentVariable("BENCH_SECRET") ?? throw new ArgumentException("--secret or BENCH_SECRET is required"),
        s.Str("issuer", "bench"),
        s.Str("audience", "ogw"));

    public string For(string clientId) => _handler.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = audience,
        Expires = DateTime.UtcNow.AddHours(2),
        Claims = new Dictionary<string, object> { ["sub"] = clientId, ["channels"] = new[] { "*" } },
        SigningCredentials = _credentials,
    });
}
