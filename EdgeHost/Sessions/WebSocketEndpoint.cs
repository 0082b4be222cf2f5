using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using OrleansGateway.EdgeHost.Hosting;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>
/// <c>GET /ws</c> through ASP.NET Core: every refusal happens before the upgrade, with a plain HTTP status
/// (docs/protocol.md, Connecting; the checks are the <see cref="HandshakeGate"/>'s). With
/// <see cref="Configuration.EdgeOptions.ConnectionLevelUpgrade"/> on, a plain <c>GET /ws</c> first on its connection
/// never gets here (Termination/); this endpoint then serves only what that path hands on (e.g. <c>/ws</c> after
/// another request on a kept-alive connection).
/// </summary>
internal static class WebSocketEndpoint
{
    public static async Task HandleAsync(HttpContext context, HandshakeGate gate)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Refuse(context, new HandshakeRefusal(StatusCodes.Status400BadRequest, "WebSocket upgrade required"));
            return;
        }

        var request = context.Request;
        var (admitted, refusal) = await gate.TryAdmitAsync(new HandshakeRequest(
            request.Headers.Origin,
            request.Headers.Authorization,
            request.Query.TryGetValue("access_token", out var token) ? token : default,
            request.Query.TryGetValue("last_seq", out var lastSeq) ? lastSeq : default,
            context.WebSockets.WebSocketRequestedProtocols,
            context.Connection.RemoteIpAddress));
        if (admitted is null)
        {
            await Refuse(context, refusal!);
            return;
        }

        System.Net.WebSockets.WebSocket socket;
        try
        {
            socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = admitted.SubProtocol,
                KeepAliveInterval = gate.Heartbeat,
                KeepAliveTimeout = gate.Heartbeat,
            });
        }
        catch
        {
            gate.Release(admitted);
            throw;
        }

        using (socket)
        {
            await gate.RunAsync(socket, admitted, context.Features.Get<IHttpUpgradeFeature>() as GracefulUpgradeFeature, context.RequestAborted);
        }
    }

    private static Task Refuse(HttpContext context, HandshakeRefusal refusal)
    {
        if (refusal.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        if (refusal.Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        context.Response.StatusCode = refusal.Status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(refusal.Reason);
    }
}
