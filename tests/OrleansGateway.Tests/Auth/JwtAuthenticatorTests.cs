using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Configuration;

namespace OrleansGateway.Tests.Auth;

public sealed class JwtAuthenticatorTests
{
    private const string Issuer = "ogw-tests";
    private const string Audience = "ogw";
    private const string Secret1 = "unit-test-secret-one-0123456789abcdef";
    private const string Secret2 = "unit-test-secret-two-0123456789abcdef";

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    // The channels a token carries are exactly the values JsonWebToken.Claims lists for the claim (one per array item),
    // whatever the claim's shape; the authenticator reads them without building every claim.
    [Theory]
    [InlineData("""["room","team/*"]""")]
    [InlineData("\"room\"")]
    [InlineData("[]")]
    [InlineData("""["only"]""")]
    [InlineData("""[1,"room"]""")]
    [InlineData("[true]")]
    [InlineData("""{"room":1}""")]
    [InlineData("null")]
    [InlineData("42")]
    [InlineData("""["2026-01-01T00:00:00Z"]""")]
    [InlineData("\"2026-01-01T00:00:00Z\"")]
    [InlineData("""[["nested"],"room"]""")]
    public async Task AuthenticateAsync_ChannelsClaimOfAnyShape_YieldsTheValuesClaimsLists(string channelsJson)
    {
        var token = Token($$"""{"sub":"alice","iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{Exp()}},"extra":"x","channels":{{channelsJson}}}""", "k1", Secret1);
        var listed = new JsonWebToken(token).Claims.Where(c => c.Type == "channels").Select(c => c.Value).ToArray();

        var identity = await Authenticator().AuthenticateAsync(token);

        Assert.NotNull(identity);
        Assert.Equal(listed.Length > 0 ? listed : ["default/*"], identity.ChannelPatterns);
    }

    // The premise of reading channels without JsonWebToken.Claims: the library keeps a string claim as a string and an
    // array as a JsonElement. Should an upgrade change that, ReadChannels would silently fall back to the
    // costlier path; this says so.
    [Theory]
    [InlineData("\"room\"", false)]
    [InlineData("""["room","team/*"]""", true)]
    public void JsonWebToken_ChannelsPayloadValue_IsAStringOrAJsonArray(string channelsJson, bool array)
    {
        var jwt = new JsonWebToken(Token($$"""{"sub":"alice","channels":{{channelsJson}}}""", "k1", Secret1));

        Assert.True(jwt.TryGetPayloadValue<object>("channels", out var value));
        Assert.True(array ? value is JsonElement { ValueKind: JsonValueKind.Array } : value is string);
    }

    [Fact]
    public async Task AuthenticateAsync_NoChannelsClaim_GetsTheDefaultChannels()
    {
        var token = Token($$"""{"sub":"alice","iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{Exp()}}}""", "k1", Secret1);

        var identity = await Authenticator().AuthenticateAsync(token);

        Assert.NotNull(identity);
        Assert.Equal("alice", identity.ClientId);
        Assert.Equal(["default/*"], identity.ChannelPatterns);
    }

    [Theory]
    [InlineData("k2", Secret2, true)]   // names the key that signed it
    [InlineData("k1", Secret2, false)]  // names another configured key: never "try every key"
    [InlineData("k3", Secret2, false)]  // names no configured key
    [InlineData("K2", Secret2, false)]  // key ids are compared ordinally
    [InlineData(null, Secret2, true)]   // no kid: any configured key may verify it
    [InlineData(null, "unit-test-secret-unknown-0123456789", false)]
    public async Task AuthenticateAsync_KeyId_SelectsOnlyTheKeyItNames(string? kid, string secret, bool accepted)
    {
        var token = Token($$"""{"sub":"alice","iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{Exp()}}}""", kid, secret);

        var identity = await Authenticator().AuthenticateAsync(token);

        Assert.Equal(accepted, identity is not null);
    }

    private long Exp() => _time.GetUtcNow().AddHours(1).ToUnixTimeSeconds();

    private static string Token(string payload, string? kid, string secret) =>
        new JsonWebTokenHandler().CreateToken(payload,
            new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)) { KeyId = kid }, SecurityAlgorithms.HmacSha256));

    private JwtAuthenticator Authenticator() => new(new FixedOptions(new AuthOptions
    {
        Issuer = Issuer,
        Audience = Audience,
        Keys =
        [
            new SigningKeyOptions { Id = "k1", Algorithm = "HS256", Secret = Secret1 },
            new SigningKeyOptions { Id = "k2", Algorithm = "HS256", Secret = Secret2 },
        ],
        DefaultChannels = ["default/*"],
    }), _time, NullLogger<JwtAuthenticator>.Instance);

    private sealed class FixedOptions(AuthOptions value) : IOptionsMonitor<AuthOptions>
    {
        public AuthOptions CurrentValue => value;

        public AuthOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AuthOptions, string?> listener) => null;
    }
}
