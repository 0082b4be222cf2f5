using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Draining;
using OrleansGateway.EdgeHost.Hosting;
using OrleansGateway.EdgeHost.Protocol;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// <c>GET /ws</c>: every refusal happens before the upgrade, with a plain HTTP status (docs/protocol.md, Connecting):
/// 503 when full, draining or not yet in the cluster; 403 for a foreign Origin; 401 for any token problem.
/// </summary>
internal static class WebSocketEndpoint
{
    public static async Task HandleAsync(
        HttpContext context,
        JwtAuthenticator authenticator,
        SessionServices services,
        FrameDispatcher dispatcher,
        DrainState drain,
        EdgeAdmission admission,
        IOptions<EdgeOptions> edgeOptions)
    {
        var options = edgeOptions.Value;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Refuse(context, StatusCodes.Status400BadRequest, "WebSocket upgrade required");
            return;
        }

        if (drain.IsDraining || !services.Edge.IsHeld)
        {
            await RefuseBusy(context, options, drain.IsDraining ? "edge is draining" : "edge is not connected to the cluster");
            return;
        }

        var origin = context.Request.Headers.Origin;
        if (options.AllowedOrigins.Length > 0 && !StringValues.IsNullOrEmpty(origin)
            && !options.AllowedOrigins.Contains(origin.ToString(), StringComparer.OrdinalIgnoreCase))
        {
            await Refuse(context, StatusCodes.Status403Forbidden, "origin not allowed");
            return;
        }

        var identity = await authenticator.AuthenticateAsync(ReadToken(context.Request));
        if (identity is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Refuse(context, StatusCodes.Status401Unauthorized, "invalid or missing token");
            return;
        }

        if (services.Budgets.IsCoolingDown(identity.ClientId))
        {
            await RefuseBusy(context, options, "this client was closed for flooding; retry later");
            return;
        }

        long? lastSeq = null;
        if (context.Request.Query.TryGetValue("last_seq", out var lastSeqText))
        {
            if (!long.TryParse(lastSeqText, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                await Refuse(context, StatusCodes.Status400BadRequest, "last_seq must be a non-negative integer");
                return;
            }

            lastSeq = value;
        }

        var offered = context.WebSockets.WebSocketRequestedProtocols;
        if (offered.Count > 0 && !offered.Contains(JsonFrameCodec.SubProtocol))
        {
            await Refuse(context, StatusCodes.Status400BadRequest, $"subprotocol {JsonFrameCodec.SubProtocol} required");
            return;
        }

        if (!services.Registry.TryReserve(options.MaxConnections))
        {
            await RefuseBusy(context, options, "edge is at its connection limit");
            return;
        }

        var ip = context.Connection.RemoteIpAddress;
        if (admission.TryAdmit(ip, identity.ClientId) is { } refused)
        {
            services.Registry.Release();
            await RefuseBusy(context, options, refused);
            return;
        }

        try
        {
            var heartbeat = TimeSpan.FromSeconds(options.HeartbeatSeconds);
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                // A client that offers no subprotocol still speaks ogw.v1.json; naming one it did not offer would fail its handshake.
                SubProtocol = offered.Count > 0 ? JsonFrameCodec.SubProtocol : null,
                KeepAliveInterval = heartbeat,
                KeepAliveTimeout = heartbeat,
            });
            services.Metrics.SessionOpened();
            var transport = new SessionTransport(socket, services, dispatcher, context.Features.Get<IHttpUpgradeFeature>() as GracefulUpgradeFeature);
            var session = new ClientSession(services.Registry.NextSessionId(), identity, transport, services);
            await transport.RunAsync(session, lastSeq, context.RequestAborted);
        }
        finally
        {
            admission.Release(ip);
            services.Registry.Release();
        }
    }

    private static string? ReadToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return request.Query.TryGetValue("access_token", out var token) ? token.ToString() : null;
    }

    private static Task RefuseBusy(HttpContext context, EdgeOptions options, string reason)
    {
        context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Refuse(context, StatusCodes.Status503ServiceUnavailable, reason);
    }

    private static Task Refuse(HttpContext context, int status, string reason)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reason);
    }
}
