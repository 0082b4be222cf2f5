using System.Globalization;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>Registers and maps the HTTP server API for backends (docs/server-api.md) on its own port.</summary>
internal static class ServerApiHostingExtensions
{
    /// <summary>Route prefix of every call.</summary>
    public const string Prefix = "/api/v1";

    /// <summary>The OpenAPI document's name and its stable path on the API port.</summary>
    public const string DocumentName = "server-api";
    public const string DocumentPath = "/openapi/server-api.json";

    /// <summary>
    /// Options (validated at start) and, when enabled, the API port added to the edge's URLs, the key checker, the
    /// OpenAPI document. Nothing is registered on the request path when it is off.
    /// </summary>
    public static WebApplicationBuilder AddGatewayServerApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ServerApiOptions>().BindConfiguration(ServerApiOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServerApiOptions>, ServerApiOptionsValidator>();
        var options = builder.Configuration.GetSection(ServerApiOptions.SectionName).Get<ServerApiOptions>() ?? new();
        if (!options.Enabled)
        {
            return builder;
        }

        builder.WebHost.UseUrls(WithApiPort(builder.WebHost, options));
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<ServerApiCluster>();
        // The API's own types resolve through its source-generated context (snake_case names) first. The OpenAPI
        // schemas are built from these options' naming policy, so it says snake_case too; the edge's other endpoints
        // write through their own contexts and are unaffected.
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerApiJsonContext.Default);
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
        });
        services.AddOpenApi(DocumentName, openApi =>
        {
            openApi.ShouldInclude = description => description.GroupName == DocumentName;
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "OrleansGateway server API";
                document.Info.Version = "v1";
                document.Info.Description = "JSON over HTTP for backends (docs/server-api.md). Every call needs `Authorization: apikey <key>`; errors are RFC 9457 problem documents with a stable `type`.";
                // The served document must equal the committed one whatever host and port it was fetched from.
                document.Servers = [];
                // Every call needs the key: one document-wide requirement, so generated clients send it on each.
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
                {
                    [ApiKeys.Scheme] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.ApiKey,
                        In = ParameterLocation.Header,
                        Name = "Authorization",
                        Description = "`Authorization: apikey <key>`: a key from Gateway:ServerApi:Keys (several may be valid at once, for rotation; a read-only key is refused on sends, publishes and disconnects).",
                    },
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeys.Scheme, document)] = [] }];
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>Maps the calls under <see cref="Prefix"/> and the OpenAPI document, answered on the API port only.</summary>
    public static WebApplication MapGatewayServerApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ServerApiOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        // Not a host filter (RequireHost): the Host header is the caller's to choose, the local port is not.
        app.Use((context, next) =>
        {
            var path = context.Request.Path;
            var apiPath = path.StartsWithSegments(Prefix, StringComparison.Ordinal) || path.Equals(DocumentPath, StringComparison.Ordinal);
            if (apiPath && context.Connection.LocalPort != options.Port)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
        app.MapOpenApi(DocumentPath.Replace(DocumentName, "{documentName}", StringComparison.Ordinal));

        var api = app.MapGroup(Prefix).WithGroupName(DocumentName).AddEndpointFilter(ServerApiAuth.FilterAsync)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        var write = new ServerApiAuth.WriteAccess();

        api.MapPost("/send", ServerApiWrites.SendAsync).WithName("send").WithMetadata(write)
            .WithSummary("Send a message to one client (Idempotency-Key header: at most once per key).")
            .Accepts<SendRequest>("application/json").Produces<SendResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPost("/send/batch", ServerApiWrites.SendBatchAsync).WithName("sendBatch").WithMetadata(write)
            .WithSummary("Send messages to several clients: one result per entry, in order, each with its seq or its problem.")
            .Accepts<SendBatchRequest>("application/json").Produces<SendBatchResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPost("/publish", ServerApiWrites.PublishAsync).WithName("publish").WithMetadata(write)
            .WithSummary("Publish on one channel (Idempotency-Key header: at most once per key).")
            .Accepts<PublishRequest>("application/json").Produces<PublishResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPost("/publish/batch", ServerApiWrites.PublishBatchAsync).WithName("publishBatch").WithMetadata(write)
            .WithSummary("Publish on several channels: one result per entry, in order, each with its off or its problem.")
            .Accepts<PublishBatchRequest>("application/json").Produces<PublishBatchResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPost("/clients/{clientId}/disconnect", ServerApiWrites.DisconnectAsync).WithName("disconnect").WithMetadata(write)
            .WithSummary("Close every session of a client with a bye code (body optional, default policy).")
            .Accepts<DisconnectRequest>("application/json").Produces<DisconnectResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/clients/{clientId}/presence", ServerApiReads.ClientPresenceAsync).WithName("clientPresence")
            .WithSummary("Whether a client is online, its sessions and its mailbox's last seq.")
            .Produces<ClientPresenceResponse>();
        api.MapGet("/clients/{clientId}/mailbox", ServerApiReads.MailboxAsync).WithName("mailbox")
            .WithSummary("A client's retained messages after seq `after`, a bounded page.")
            .Produces<MailboxResponse>();
        api.MapGet("/channels/members", ServerApiReads.ChannelMembersAsync).WithName("channelMembers")
            .WithSummary("A channel's members (client ids with session counts) after client id `after`, a bounded page, and the total.")
            .Produces<ChannelMembersResponse>();
        api.MapGet("/channels/stats", ServerApiReads.ChannelStatsAsync).WithName("channelStats")
            .WithSummary("A channel's presence counts only (cheap for huge channels).")
            .Produces<ChannelStatsResponse>();
        api.MapGet("/channels/history", ServerApiReads.ChannelHistoryAsync).WithName("channelHistory")
            .WithSummary("A channel's retained publications after offset `since`, a bounded page.")
            .Produces<HistoryResponse>();
        api.MapGet("/cluster", (ServerApiCluster cluster, LocalEdge edge, SessionRegistry sessions) => ServerApiReads.ClusterInfoAsync(cluster, edge, sessions))
            .WithName("clusterInfo")
            .WithSummary("Silos, edges and connections as this edge sees them.")
            .Produces<ClusterInfoResponse>();
        return app;
    }

    /// <summary>
    /// The edge's URLs plus the API port. Kestrel takes one list of URLs, so the edge's own (ASPNETCORE_URLS, else
    /// ASPNETCORE_HTTP_PORTS / HTTPS_PORTS, else Kestrel's default) are carried over unchanged and the API's appended.
    /// </summary>
    internal static string WithApiPort(IWebHostBuilder host, ServerApiOptions options)
    {
        var urls = host.GetSetting(WebHostDefaults.ServerUrlsKey);
        if (string.IsNullOrWhiteSpace(urls))
        {
            var ports = Split(host.GetSetting(WebHostDefaults.HttpPortsKey)).Select(p => $"http://*:{p}")
                .Concat(Split(host.GetSetting(WebHostDefaults.HttpsPortsKey)).Select(p => $"https://*:{p}")).ToList();
            urls = ports.Count > 0 ? string.Join(';', ports) : "http://localhost:5000";
        }

        var port = options.Port.ToString(CultureInfo.InvariantCulture);
        return Split(urls).Any(u => u.TrimEnd('/').EndsWith($":{port}", StringComparison.Ordinal))
            ? urls
            : $"{urls};http://{options.Host}:{port}";

        static string[] Split(string? list) => (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
