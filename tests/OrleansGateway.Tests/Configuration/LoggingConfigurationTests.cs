using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansGateway.Tests.Kubernetes;
using Xunit;

namespace OrleansGateway.Tests.Configuration;

/// <summary>The log levels the shipped appsettings.json give our own categories and Orleans'.</summary>
public sealed class LoggingConfigurationTests
{
    [Theory]
    [InlineData("EdgeHost")]
    [InlineData("Silo")]
    public void Appsettings_OrleansQuieted_OurCategoriesStillLogInformation(string project)
    {
        // Log filter rules match category prefixes as plain strings: a rule for "Orleans" also caught
        // "OrleansGateway.*", which silenced the dev run's "how to connect" banner and every Information log of ours.
        using var services = LoggingFrom(Path.Combine(KubernetesManifests.FindRepositoryRoot(), project, "appsettings.json"));
        var loggers = services.GetRequiredService<ILoggerFactory>();

        Assert.True(loggers.CreateLogger("OrleansGateway.EdgeHost.Hosting.DevelopmentBanner").IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger("OrleansGateway.Grains.ClientGrain").IsEnabled(LogLevel.Information));
        Assert.False(loggers.CreateLogger("Orleans.Runtime.Silo").IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger("Orleans.Runtime.Silo").IsEnabled(LogLevel.Warning));
    }

    private static ServiceProvider LoggingFrom(string appsettings)
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(appsettings).Build();
        return new ServiceCollection()
            .AddLogging(logging => logging.AddConfiguration(configuration.GetSection("Logging")).AddProvider(new NullProvider()))
            .BuildServiceProvider();
    }

    /// <summary>A provider whose loggers take everything, so only the configured filter rules decide.</summary>
    private sealed class NullProvider : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }

        public void Dispose()
        {
        }
    }
}
