using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OrleansGateway.Grains.Hosting;
using OrleansGateway.Hosting;

namespace OrleansGateway.Silo.Hosting;

internal static class SiloHostExtensions
{
    public static WebApplicationBuilder AddGatewaySiloHost(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var siloOptions = configuration.GetSection(SiloOptions.SectionName).Get<SiloOptions>() ?? new();
        builder.Services.AddOptions<SiloOptions>().BindConfiguration(SiloOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = siloOptions.ShutdownTimeout);
        var dashboard = configuration.GetSiloDashboardOptions();

        builder.UseOrleans(silo =>
        {
            silo.AddGatewaySilo(configuration).AddGatewayGrains(configuration);
            builder.AddSiloDashboard(silo, dashboard);
            if (siloOptions.KubernetesHosting ?? Environment.GetEnvironmentVariable("POD_NAME") is not null)
            {
                // After AddGatewaySilo: the pod's name, IP and orleans/* labels take precedence.
                silo.UseKubernetesHosting();
            }
        });
        builder.AddGatewayTelemetry();
        builder.Services.AddHealthChecks()
            .AddCheck<SiloReadinessCheck>("orleans-silo", tags: ["ready"]);
        return builder;
    }

    public static WebApplication MapSiloHealthEndpoints(this WebApplication app)
    {
        // Live: the process answers. Ready: the silo has joined the cluster and is not shutting down.
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready") });
        app.MapGatewayMetrics();
        app.MapSiloDashboard();
        return app;
    }
}

internal sealed class SiloReadinessCheck(ISiloStatusOracle oracle) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(oracle.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"silo status {oracle.CurrentStatus}"));
}
