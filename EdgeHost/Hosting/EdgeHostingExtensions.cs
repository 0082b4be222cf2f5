using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.EdgeHost.Draining;
using OrleansGateway.EdgeHost.Rebalancing;
using OrleansGateway.EdgeHost.ServerApi;
using OrleansGateway.EdgeHost.Sessions;
using OrleansGateway.EdgeHost.Termination;
using OrleansGateway.EdgeHost.Upstream;
using OrleansGateway.Grains;
using OrleansGateway.EdgeHost.Upstream.Kafka;
using OrleansGateway.Hosting;

namespace OrleansGateway.EdgeHost.Hosting;

internal static class EdgeHostingExtensions
{
    /// <summary>Configuration key: co-host a silo in this process (the one-command dev run) instead of joining a cluster as a client.</summary>
    public const string EmbeddedSiloKey = "Gateway:EmbeddedSilo";

    /// <summary>Registers the edge: Orleans (client, or an embedded silo), options, auth, sessions, lease, health.</summary>
    public static WebApplicationBuilder AddGatewayEdge(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (configuration[$"{AuthOptions.SectionName}:{nameof(AuthOptions.KeysFile)}"] is { Length: > 0 } keysFile)
        {
            // Added last so it wins; reloaded on change for key rotation without a restart.
            builder.Configuration.AddJsonFile(keysFile, optional: false, reloadOnChange: true);
        }

        if (configuration.GetValue<bool>(EmbeddedSiloKey))
        {
            builder.UseOrleans(silo => silo.AddGatewaySilo(configuration).AddEmbeddedGatewayGrains(configuration));
        }
        else
        {
            builder.UseOrleansClient(client => client.AddGatewayClient(configuration));

            // The Orleans client never fails a call in flight through a gateway silo that stops, it only times it out
            // (dotnet/orleans#10165): its response timeout (30 s by default) becomes the edge's call timeout. That bounds
            // send and pub, the per-message path, without a timer of our own per message.
            builder.Services.AddOptions<ClientMessagingOptions>()
                .Configure<IOptions<EdgeOptions>>((messaging, edge) => messaging.ResponseTimeout = edge.Value.CallTimeout);
        }

        var services = builder.Services;
        services.AddOptions<EdgeOptions>().BindConfiguration(EdgeOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EdgeOptions>, EdgeOptionsValidator>();
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        var drain = configuration.GetSection(DrainOptions.SectionName).Get<DrainOptions>() ?? new();
        var edge = configuration.GetSection(EdgeOptions.SectionName).Get<EdgeOptions>() ?? new();
        services.AddSingleton<EdgeAdmission>();
        services.AddSingleton<HandshakeGate>();
        if (edge.ConnectionLevelUpgrade)
        {
            // Every endpoint, whether from ASPNETCORE_URLS, UseUrls or Kestrel:Endpoints: GET /ws is upgraded before
            // Kestrel's HTTP layer sees the connection; everything else passes through to it.
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Use(next =>
                new ConnectionUpgradeMiddleware(
                    next,
                    listen.ApplicationServices.GetRequiredService<HandshakeGate>(),
                    kestrel.Limits,
                    listen.ApplicationServices.GetRequiredService<TimeProvider>(),
                    listen.ApplicationServices.GetRequiredService<ILogger<ConnectionUpgradeMiddleware>>()).OnConnectionAsync)));
        }

        services.AddOptions<DrainOptions>().BindConfiguration(DrainOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DrainOptions>, DrainOptionsValidator>();
        // The host must wait for the whole drain (and the last close handshakes), not .NET's default 30 s.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = HostShutdownTimeout(drain, edge));
        services.AddOptions<ResyncOptions>().BindConfiguration(ResyncOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ResyncOptions>, ResyncOptionsValidator>();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();

        // Which lifecycle events the silos produce: the edge reports close reasons and channel changes only for those.
        services.AddGatewayEventsOptions();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<JwtAuthenticator>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<GrainRefs>();
        services.AddSingleton<GrainCallPolicy>();
        services.AddSingleton<IStreamHistory, GrainStreamHistory>();
        services.AddSingleton<ClientBudgets>();
        services.AddSingleton<EdgeMetrics>();
        services.AddSingleton<LocalEdge>();
        services.AddSingleton<EdgeObserver>();
        services.AddSingleton<SendTickets>();
        services.AddSingleton<SendBatcher>();
        services.AddSingleton<FrameDispatcher>();
        services.AddSingleton<ChannelSubscriptions>();
        services.AddOptions<PresenceReportOptions>().BindConfiguration(PresenceReportOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PresenceReportOptions>, PresenceReportOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var (refs, calls, local) = (sp.GetRequiredService<GrainRefs>(), sp.GetRequiredService<GrainCallPolicy>(), sp.GetRequiredService<LocalEdge>());
            return new MemberReporter(
                (channel, report) => calls.OnceAsync(refs.Channel(channel).ReportMembersAsync(local.EdgeId, local.Reference, report)),
                sp.GetRequiredService<IOptions<PresenceReportOptions>>().Value.ReportInterval,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<MemberReporter>>());
        });
        services.AddSingleton<ClusterConnectivity>();
        services.AddSingleton<IClusterConnectionStatusObserver>(sp => sp.GetRequiredService<ClusterConnectivity>());
        services.AddSingleton<EdgeResync>();
        services.AddSingleton<IClusterConnectionStatusObserver>(sp => sp.GetRequiredService<EdgeResync>());
        if (string.IsNullOrWhiteSpace(configuration[$"{KafkaUpstreamOptions.SectionName}:{nameof(KafkaUpstreamOptions.BootstrapServers)}"]))
        {
            services.AddSingleton<IUpstreamPublisher, OrleansStreamUpstreamPublisher>();
        }
        else
        {
            services.AddKafkaUpstreamProducer();
            services.AddSingleton<IUpstreamPublisher, KafkaUpstreamPublisher>();
        }

        services.AddSingleton<DrainState>();
        services.AddSingleton<IDrainableSessions>(sp => sp.GetRequiredService<SessionRegistry>());
        services.AddSingleton<EdgeDrainer>();
        services.AddGatewayRebalancing();
        services.AddSingleton(sp => new SessionServices(
            sp.GetRequiredService<GrainRefs>(),
            sp.GetRequiredService<GrainCallPolicy>(),
            sp.GetRequiredService<IStreamHistory>(),
            sp.GetRequiredService<ChannelSubscriptions>(),
            sp.GetRequiredService<SessionRegistry>(),
            sp.GetRequiredService<ClientBudgets>(),
            sp.GetRequiredService<LocalEdge>(),
            sp.GetRequiredService<EdgeMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<AuthOptions>>().Value.ClockSkew,
            sp.GetRequiredService<IOptions<EdgeOptions>>().Value,
            sp.GetRequiredService<IOptions<LimitsOptions>>().Value,
            sp.GetRequiredService<ILogger<ClientSession>>(),
            sp.GetRequiredService<IOptions<GatewayEventsOptions>>().Value));

        // Registered after UseOrleans*: the drain runs in StoppingAsync, before any hosted service stops (Kestrel,
        // lease and Orleans client still up: grains keep pushing until the last session is gone), then the lease, then Orleans.
        services.AddHostedService(sp => new TokenExpirySweep(
            sp.GetRequiredService<SessionRegistry>().All,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<TokenExpirySweep>>()));
        services.AddHostedService<EdgeLeaseService>();
        services.AddHostedService(sp => sp.GetRequiredService<MemberReporter>());
        services.AddHostedService(sp => sp.GetRequiredService<EdgeResync>());
        services.AddHostedService<DrainOnShutdownService>();

        builder.AddGatewayServerApi();
        services.AddHealthChecks().AddCheck<EdgeReadinessCheck>("edge", tags: ["ready"]);
        builder.AddGatewayTelemetry(EdgeMetrics.MeterName);
        return builder;
    }

    /// <summary>
    /// How long the edge's host waits on SIGTERM: the whole drain, the last close handshakes, and a margin for the
    /// Orleans client to stop. Kubernetes' terminationGracePeriodSeconds must exceed it (checked by ManifestTests).
    /// </summary>
    internal static TimeSpan HostShutdownTimeout(DrainOptions drain, EdgeOptions edge) =>
        drain.Deadline + edge.CloseTimeout + TimeSpan.FromSeconds(5);

    /// <summary>Maps <c>/ws</c>, <c>/health/live</c>, <c>/health/ready</c> and, in Development only, <c>/dev/token</c> and the demo page.</summary>
    public static WebApplication MapGatewayEndpoints(this WebApplication app)
    {
        GracefulUpgradeFeature.Use(app);
        app.UseWebSockets();
        app.Map("/ws", WebSocketEndpoint.HandleAsync);
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready") });
        app.MapGatewayMetrics();
        app.MapGatewayServerApi();
        if (!string.IsNullOrEmpty(app.Services.GetRequiredService<IOptions<DrainOptions>>().Value.AdminToken))
        {
            app.MapPost("/admin/drain", AdminDrainEndpoint.Handle);
        }

        if (app.Environment.IsDevelopment())
        {
            app.MapGet("/dev/token", DevTokenEndpoint.Handle);
            // The demo chat page (wwwroot/, built from clients/js); never served outside Development.
            app.UseDefaultFiles();
            app.UseStaticFiles();
        }

        return app;
    }
}

/// <summary>Ready: in the cluster with a current lease, and not draining.</summary>
internal sealed class EdgeReadinessCheck(LocalEdge lease, DrainState drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.IsDraining ? HealthCheckResult.Unhealthy("draining")
            : lease.IsHeld ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("no cluster lease"));
}
