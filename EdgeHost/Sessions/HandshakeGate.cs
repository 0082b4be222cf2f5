using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Draining;
using OrleansGateway.EdgeHost.Protocol;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>What the checks before an upgrade read from a WebSocket request, whoever parsed it.</summary>
internal readonly record struct HandshakeRequest(
    StringValues Origin,
    StringValues Authorization,
    StringValues AccessToken,
    StringValues LastSeq,
    IList<string> OfferedProtocols,
    IPAddress? RemoteIp);

/// <summary>
/// A refused upgrade: the plain HTTP answer (docs/protocol.md, Connecting). <see cref="RetryAfter"/> on 503,
/// <see cref="Unauthorized"/> adds <c>WWW-Authenticate: Bearer</c>.
/// </summary>
internal sealed record HandshakeRefusal(int Status, string Reason, int? RetryAfter = null, bool Unauthorized = false);

/// <summary>An admitted upgrade: its connection slot and IP slot are held until <see cref="HandshakeGate.RunAsync"/> ends.</summary>
internal sealed record HandshakeAdmission(ClientIdentity Identity, long? LastSeq, string? SubProtocol, IPAddress? RemoteIp);

/// <summary>
/// Every check before a WebSocket upgrade, in order, and the session run after it: shared by the ASP.NET Core
/// endpoint (<see cref="WebSocketEndpoint"/>) and the connection-level upgrade (<c>Termination/</c>), so both refuse
/// and admit exactly alike. 503 when full, draining or not yet in the cluster; 403 for a foreign Origin; 401 for any
/// token problem; 400 for a bad <c>last_seq</c> or subprotocol.
/// </summary>
internal sealed class HandshakeGate(
    JwtAuthenticator authenticator,
    SessionServices services,
    FrameDispatcher dispatcher,
    DrainState drain,
    EdgeAdmission admission,
    IOptions<EdgeOptions> edgeOptions)
{
    private readonly EdgeOptions _options = edgeOptions.Value;

    /// <summary>The keep-alive the WebSocket layer runs: a ping every heartbeat, and a peer that does not answer within as long is closed.</summary>
    public TimeSpan Heartbeat => TimeSpan.FromSeconds(_options.HeartbeatSeconds);

    /// <summary>Null refusal when admitted; the admission then holds a connection slot until <see cref="RunAsync"/> ends.</summary>
    public async Task<(HandshakeAdmission? Admission, HandshakeRefusal? Refusal)> TryAdmitAsync(HandshakeRequest request)
    {
        if (drain.IsDraining || !services.Edge.IsHeld)
        {
            return (null, Busy(drain.IsDraining ? "edge is draining" : "edge is not connected to the cluster"));
        }

        if (_options.AllowedOrigins.Length > 0 && !StringValues.IsNullOrEmpty(request.Origin)
            && !_options.AllowedOrigins.Contains(request.Origin.ToString(), StringComparer.OrdinalIgnoreCase))
        {
            return (null, new HandshakeRefusal(StatusCodes.Status403Forbidden, "origin not allowed"));
        }

        var identity = await authenticator.AuthenticateAsync(ReadToken(request));
        if (identity is null)
        {
            return (null, new HandshakeRefusal(StatusCodes.Status401Unauthorized, "invalid or missing token", Unauthorized: true));
        }

        if (services.Budgets.IsCoolingDown(identity.ClientId))
        {
            return (null, Busy("this client was closed for flooding; retry later"));
        }

        long? lastSeq = null;
        if (request.LastSeq.Count > 0)
        {
            if (!long.TryParse(request.LastSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return (null, new HandshakeRefusal(StatusCodes.Status400BadRequest, "last_seq must be a non-negative integer"));
            }

            lastSeq = value;
        }

        var offered = request.OfferedProtocols;
        if (offered.Count > 0 && !offered.Contains(JsonFrameCodec.SubProtocol))
        {
            return (null, new HandshakeRefusal(StatusCodes.Status400BadRequest, $"subprotocol {JsonFrameCodec.SubProtocol} required"));
        }

        if (!services.Registry.TryReserve(_options.MaxConnections))
        {
            return (null, Busy("edge is at its connection limit"));
        }

        if (admission.TryAdmit(request.RemoteIp, identity.ClientId) is { } refused)
        {
            services.Registry.Release();
            return (null, Busy(refused));
        }

        // A client that offers no subprotocol still speaks ogw.v1.json; naming one it did not offer would fail its handshake.
        return (new HandshakeAdmission(identity, lastSeq, offered.Count > 0 ? JsonFrameCodec.SubProtocol : null, request.RemoteIp), null);
    }

    /// <summary>Gives back an admission whose upgrade never happened (the 101 could not be written).</summary>
    public void Release(HandshakeAdmission admitted)
    {
        admission.Release(admitted.RemoteIp);
        services.Registry.Release();
    }

    /// <summary>Runs the session of an accepted socket to its end, then releases the admission's slots.</summary>
    public async Task RunAsync(WebSocket socket, HandshakeAdmission admitted, IPeerCloseWaiter? peer, CancellationToken connectionAborted)
    {
        try
        {
            services.Metrics.SessionOpened();
            var transport = new SessionTransport(socket, services, dispatcher, peer);
            var session = new ClientSession(services.Registry.NextSessionId(), admitted.Identity, transport, services);
            await transport.RunAsync(session, admitted.LastSeq, connectionAborted);
        }
        finally
        {
            Release(admitted);
        }
    }

    private HandshakeRefusal Busy(string reason) => new(StatusCodes.Status503ServiceUnavailable, reason, _options.RetryAfterSeconds);

    private static string? ReadToken(HandshakeRequest request)
    {
        var header = request.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return request.AccessToken.Count > 0 ? request.AccessToken.ToString() : null;
    }
}

/// <summary>
/// Waits, after the WebSocket layer failed a connection and stopped reading, until the client answers or leaves, so
/// aborting the connection does not lose the close frame the client has not read yet (see GracefulUpgradeFeature).
/// </summary>
internal interface IPeerCloseWaiter
{
    Task WaitForPeerCloseAsync(TimeSpan timeout, TimeProvider time);
}
