using Microsoft.Extensions.Configuration;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.Grains.MessageLogs;
using OrleansGateway.Hosting;

namespace OrleansGateway.Tests.Configuration;

public sealed class OptionsValidatorTests
{
    [Fact]
    public void EdgeOptionsValidator_Defaults_Valid() =>
        Assert.True(new EdgeOptionsValidator().Validate(null, new EdgeOptions()).Succeeded);

    [Fact]
    public void EdgeOptionsValidator_SeveralBadValues_ReportsEveryFailure()
    {
        var result = new EdgeOptionsValidator().Validate(null, new EdgeOptions { MaxFrameBytes = 10, OutboxCapacity = 0, AllowedOrigins = ["not a url"] });
        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
    }

    [Fact]
    public void ResyncOptionsValidator_Defaults_Valid() =>
        Assert.True(new ResyncOptionsValidator().Validate(null, new ResyncOptions()).Succeeded);

    [Fact]
    public void ResyncOptionsValidator_SeveralBadValues_ReportsEveryFailure()
    {
        var options = new ResyncOptions { CallsPerSecond = 0, RetryFor = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(5), CallTimeout = TimeSpan.Zero };
        var result = new ResyncOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
    }

    [Fact]
    public void AuthOptionsValidator_ShortHmacSecret_Fails()
    {
        var options = new AuthOptions { Issuer = "i", Audience = "a", Keys = [new SigningKeyOptions { Id = "k", Algorithm = "HS256", Secret = "short" }] };
        var result = new AuthOptionsValidator().Validate(null, options);
        Assert.Contains(result.Failures!, f => f.Contains("at least 32 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void AuthOptionsValidator_NoneAlgorithm_Fails()
    {
        var options = new AuthOptions { Issuer = "i", Audience = "a", Keys = [new SigningKeyOptions { Id = "k", Algorithm = "none" }] };
        Assert.True(new AuthOptionsValidator().Validate(null, options).Failed);
    }

    [Fact]
    public void AuthOptionsValidator_MissingEverything_ReportsEachProblem()
    {
        var result = new AuthOptionsValidator().Validate(null, new AuthOptions());
        Assert.Equal(3, result.Failures!.Count());
    }

    [Fact]
    public void AuthOptionsValidator_RsaKeyNotPem_Fails()
    {
        var options = new AuthOptions { Issuer = "i", Audience = "a", Keys = [new SigningKeyOptions { Id = "k", Algorithm = "RS256", PublicKeyPem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" }] };
        Assert.True(new AuthOptionsValidator().Validate(null, options).Failed);
    }

    [Fact]
    public void MailboxOptionsValidator_ZeroMessages_Fails() =>
        Assert.True(new RetentionOptionsValidator<MailboxOptions>(MailboxOptions.SectionName).Validate(null, new MailboxOptions { MaxMessages = 0 }).Failed);

    [Fact]
    public void RetentionOptionsValidator_InvalidIdempotencyWindow_FailsNamingEach()
    {
        var result = new RetentionOptionsValidator<ChannelOptions>(ChannelOptions.SectionName)
            .Validate(null, new ChannelOptions { IdempotencyKeys = 0, IdempotencyWindow = TimeSpan.Zero });
        Assert.True(result.Failed);
        Assert.Contains("Gateway:Channel:IdempotencyKeys", result.FailureMessage);
        Assert.Contains("Gateway:Channel:IdempotencyWindow", result.FailureMessage);
    }

    [Fact]
    public void GatewayClusterOptions_ToString_RedactsRedisPassword()
    {
        var text = new GatewayClusterOptions { Redis = "redis:6379,password=hunter2,ssl=true" }.ToString();
        Assert.DoesNotContain("hunter2", text);
        Assert.Contains("password=*****", text);
    }

    [Fact]
    public void MessageLogStoreFactory_OnlyClusterRedisConfigured_UsesTheKeyGatewayClusterOptionsBinds()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new($"{GatewayClusterOptions.SectionName}:{nameof(GatewayClusterOptions.Redis)}", "redis:6379")])
            .Build();
        Assert.Equal("redis:6379", OrleansGateway.Grains.MessageLogs.MessageLogStoreFactory.RedisConnection(new MailboxOptions(), configuration));
    }

    [Fact]
    public void GatewayClusterOptionsValidator_BadAdvertisedAddress_Fails() =>
        Assert.True(new GatewayClusterOptionsValidator().Validate(null, new GatewayClusterOptions { AdvertisedAddress = "pod-ip" }).Failed);
}
