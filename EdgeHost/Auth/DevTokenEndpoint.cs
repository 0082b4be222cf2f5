using System.Security.Claims;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrleansGateway.EdgeHost.Configuration;

namespace OrleansGateway.EdgeHost.Auth;

/// <summary>
/// <c>GET /dev/token?sub=alice</c>: mints a token with the first HS256 key. Mapped only in the Development
/// environment; anywhere else the route does not exist (404).
/// </summary>
internal static class DevTokenEndpoint
{
    public static IResult Handle(string? sub, string? channels, IOptions<AuthOptions> options, TimeProvider time, HttpRequest request)
    {
        if (!ClientIds.IsValid(sub))
        {
            return Results.BadRequest("sub must be 1-128 chars of [A-Za-z0-9._:@-]");
        }

        var auth = options.Value;
        var key = auth.Keys.FirstOrDefault(k => k.Algorithm == "HS256");
        if (key is null)
        {
            return Results.Problem("no HS256 key configured to mint development tokens", statusCode: StatusCodes.Status501NotImplemented);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var expires = now.AddHours(1);
        var patterns = string.IsNullOrEmpty(channels) ? ["*"] : channels.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = auth.Issuer,
            Audience = auth.Audience,
            Subject = new ClaimsIdentity([new Claim("sub", sub!)]),
            Claims = new Dictionary<string, object> { ["channels"] = patterns },
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key.Secret!)) { KeyId = key.Id }, SecurityAlgorithms.HmacSha256),
        });
        var scheme = request.IsHttps ? "wss" : "ws";
        var url = $"{scheme}://{request.Host}/ws?access_token={token}";
        return Results.Json(new DevToken(token, url, new DateTimeOffset(expires)), DevTokenJsonContext.Default.DevToken);
    }
}

internal sealed record DevToken(string Token, string Url, DateTimeOffset ExpiresAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DevToken))]
internal sealed partial class DevTokenJsonContext : JsonSerializerContext;
