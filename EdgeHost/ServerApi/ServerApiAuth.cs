namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>
/// The API's authentication as an endpoint filter on its route group: <c>401</c> without a known key, <c>403</c> when a
/// read-only key calls an endpoint marked <see cref="WriteAccess"/>. The caller's key is kept for the call (<see cref="Caller"/>).
/// </summary>
internal static class ServerApiAuth
{
    private const string CallerItem = "ogw.server-api.key";

    /// <summary>Endpoint metadata: the call changes state (send, publish, disconnect).</summary>
    public sealed class WriteAccess;

    public static ServerApiKey Caller(HttpContext http) => (ServerApiKey)http.Items[CallerItem]!;

    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var cluster = http.RequestServices.GetRequiredService<ServerApiCluster>();
        var key = http.RequestServices.GetRequiredService<ApiKeys>().Authenticate(http.Request.Headers.Authorization.FirstOrDefault());
        if (key is null)
        {
            return cluster.Answer(ServerApiProblems.Create(ServerApiProblems.Unauthorized, StatusCodes.Status401Unauthorized,
                "A valid API key is required.", "send Authorization: apikey <key>"));
        }

        if (key.ReadOnly && http.GetEndpoint()?.Metadata.GetMetadata<WriteAccess>() is not null)
        {
            return cluster.Answer(ServerApiProblems.Create(ServerApiProblems.Forbidden, StatusCodes.Status403Forbidden,
                "This API key is read-only.", $"key '{key.Name}' may not send, publish or disconnect"));
        }

        http.Items[CallerItem] = key;
        return await next(context);
    }
}
