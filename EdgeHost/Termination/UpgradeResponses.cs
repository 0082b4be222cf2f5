using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using OrleansGateway.EdgeHost.Sessions;

namespace OrleansGateway.EdgeHost.Termination;

/// <summary>The two answers the connection-level upgrade writes itself: <c>101 Switching Protocols</c> and a refusal.</summary>
internal static class UpgradeResponses
{
    // RFC 6455 §1.3: the key's accept value is base64(SHA-1(key + this GUID)).
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static ValueTask<FlushResult> WriteSwitchingProtocolsAsync(PipeWriter output, string key, string? subProtocol)
    {
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
        var head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + $"Sec-WebSocket-Accept: {accept}\r\n"
            + (subProtocol is null ? "" : $"Sec-WebSocket-Protocol: {subProtocol}\r\n")
            + "\r\n";
        return output.WriteAsync(Encoding.ASCII.GetBytes(head));
    }

    /// <summary>
    /// The refusal as the ASP.NET Core endpoint writes it (status, <c>text/plain</c> reason, <c>Retry-After</c>,
    /// <c>WWW-Authenticate</c>), with <c>Connection: close</c>: a refused client reconnects on a new connection anyway.
    /// </summary>
    public static ValueTask<FlushResult> WriteRefusalAsync(PipeWriter output, HandshakeRefusal refusal, DateTimeOffset now)
    {
        var body = Encoding.UTF8.GetBytes(refusal.Reason);
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {refusal.Status} {ReasonPhrases.GetReasonPhrase(refusal.Status)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {now.ToString("r", CultureInfo.InvariantCulture)}\r\n")
            .Append("Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        if (refusal.RetryAfter is { } retryAfter)
        {
            head.Append(CultureInfo.InvariantCulture, $"Retry-After: {retryAfter}\r\n");
        }

        if (refusal.Unauthorized)
        {
            head.Append("WWW-Authenticate: Bearer\r\n");
        }

        head.Append("\r\n");
        byte[] response = [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
        return output.WriteAsync(response);
    }
}
