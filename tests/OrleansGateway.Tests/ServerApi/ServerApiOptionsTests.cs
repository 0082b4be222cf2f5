using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.ServerApi;

namespace OrleansGateway.Tests.ServerApi;

public sealed class ServerApiOptionsTests
{
    private static ServerApiOptions Valid() => new()
    {
        Enabled = true,
        Keys = [new() { Name = "backend", Key = "0123456789abcdef" }, new() { Name = "dashboard", Key = "fedcba9876543210", ReadOnly = true }],
    };

    [Fact]
    public void Validator_Disabled_AcceptsAnything()
    {
        Assert.True(new ServerApiOptionsValidator().Validate(null, new ServerApiOptions { Port = -1, MaxBodyBytes = 0 }).Succeeded);
    }

    [Fact]
    public void Validator_EnabledWithKeys_Succeeds()
    {
        Assert.True(new ServerApiOptionsValidator().Validate(null, Valid()).Succeeded);
    }

    [Fact]
    public void Validator_EnabledWithoutKeysShortKeyDuplicateNamesBadPort_ReportsEveryFailure()
    {
        var options = Valid();
        options.Keys.Add(new() { Name = "backend", Key = "short" });
        options.Port = 0;
        options.MaxBodyBytes = 10;
        var result = new ServerApiOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Equal(4, result.Failures!.Count());
        Assert.True(new ServerApiOptionsValidator().Validate(null, new ServerApiOptions { Enabled = true }).Failed);
    }

    [Fact]
    public void ToString_WithKeys_NeverShowsTheSecrets()
    {
        var text = Valid().ToString();
        Assert.DoesNotContain("0123456789abcdef", text, StringComparison.Ordinal);
        Assert.Contains("backend", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("apikey 0123456789abcdef", "backend")]
    [InlineData("ApiKey fedcba9876543210", "dashboard")]
    [InlineData("apikey 0123456789abcdeF", null)]
    [InlineData("apikey 0123456789abcde", null)]
    [InlineData("Bearer 0123456789abcdef", null)]
    [InlineData("apikey0123456789abcdef", null)]
    [InlineData("apikey ", null)]
    [InlineData(null, null)]
    public void ApiKeys_Authenticate_MatchesOnlyAConfiguredKeyUnderTheApikeyScheme(string? header, string? expected)
    {
        var keys = new ApiKeys(Options.Create(Valid()));
        Assert.Equal(expected, keys.Authenticate(header)?.Name);
    }

    [Theory]
    [InlineData("http://127.0.0.1:0", null, "http://127.0.0.1:0;http://*:8081")]
    [InlineData(null, "8080", "http://*:8080;http://*:8081")]
    [InlineData(null, null, "http://localhost:5000;http://*:8081")]
    [InlineData("http://*:8081", null, "http://*:8081")]
    public void WithApiPort_EdgeUrls_KeptAndTheApiPortAppendedOnce(string? urls, string? httpPorts, string expected)
    {
        var host = new WebHostBuilderStub();
        host.UseSetting(WebHostDefaults.ServerUrlsKey, urls);
        host.UseSetting(WebHostDefaults.HttpPortsKey, httpPorts);
        Assert.Equal(expected, ServerApiHostingExtensions.WithApiPort(host, new ServerApiOptions { Enabled = true }));
    }

    private sealed class WebHostBuilderStub : IWebHostBuilder
    {
        private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);

#pragma warning disable ASPDEPR008 // the interface still declares it
        public IWebHost Build() => throw new NotSupportedException();
#pragma warning restore ASPDEPR008

        public IWebHostBuilder ConfigureAppConfiguration(Action<WebHostBuilderContext, Microsoft.Extensions.Configuration.IConfigurationBuilder> configureDelegate) => this;

        public IWebHostBuilder ConfigureServices(Action<Microsoft.Extensions.DependencyInjection.IServiceCollection> configureServices) => this;

        public IWebHostBuilder ConfigureServices(Action<WebHostBuilderContext, Microsoft.Extensions.DependencyInjection.IServiceCollection> configureServices) => this;

        public string? GetSetting(string key) => _settings.GetValueOrDefault(key);

        public IWebHostBuilder UseSetting(string key, string? value)
        {
            _settings[key] = value;
            return this;
        }
    }
}
