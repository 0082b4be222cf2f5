using System.Buffers;
using System.Buffers.Text;
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

    /// <summary>Base64 of a 20-byte SHA-1.</summary>
    private const int AcceptLength = 28;

    private static ReadOnlySpan<byte> SwitchingHead =>
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: "u8;

    private static ReadOnlySpan<byte> ProtocolHeader => "Sec-WebSocket-Protocol: "u8;

    /// <summary>
    /// Writes the <c>101</c> straight into <paramref name="output"/>: the accept value is hashed and encoded on the
    /// stack, and no string or array is made for the head (every accepted connection writes one: connect cost).
    /// </summary>
    public static ValueTask<FlushResult> WriteSwitchingProtocolsAsync(PipeWriter output, string key, string? subProtocol)
    {
        // base64(SHA-1(key + GUID)), the key taken as ASCII bytes. A valid key is 24 chars; one padded with whitespace
        // (which base64 decoding allows) may be longer than the stack is given for it.
        var inputLength = key.Length + AcceptGuid.Length;
        var rented = inputLength > 256 ? ArrayPool<byte>.Shared.Rent(inputLength) : null;
        Span<byte> input = rented is null ? stackalloc byte[inputLength] : rented.AsSpan(0, inputLength);
        var length = Encoding.ASCII.GetBytes(key, input);
        length += Encoding.ASCII.GetBytes(AcceptGuid, input[length..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..length], hash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        Span<byte> accept = stackalloc byte[AcceptLength];
        Base64.EncodeToUtf8(hash, accept, out _, out _);

        var head = output.GetSpan(SwitchingHead.Length + AcceptLength + 2 + (subProtocol is null ? 0 : ProtocolHeader.Length + subProtocol.Length + 2) + 2);
        var written = Append(head, SwitchingHead);
        written += Append(head[written..], accept);
        written += Append(head[written..], "\r\n"u8);
        if (subProtocol is not null)
        {
            written += Append(head[written..], ProtocolHeader);
            written += Encoding.ASCII.GetBytes(subProtocol, head[written..]);
            written += Append(head[written..], "\r\n"u8);
        }

        written += Append(head[written..], "\r\n"u8);
        output.Advance(written);
        return output.FlushAsync();
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

    private static int Append(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        return bytes.Length;
    }
}
