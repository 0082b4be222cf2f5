using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace OrleansGateway.EdgeHost.Termination;

/// <summary>Whose a connection's first request is: ours (<c>GET /ws</c>), ASP.NET Core's, or not known yet.</summary>
internal enum UpgradeRoute
{
    NeedMore,
    Ours,
    NotOurs,
}

/// <summary>
/// The head of a <c>GET /ws</c> request read off a raw connection: request target, query and the headers a WebSocket
/// upgrade needs (RFC 6455 §4.2.1). Pure: bytes in, fields out, no sockets. Only what the connection-level upgrade
/// uses is kept; anything it does not understand is answered with 400, as ASP.NET Core would.
/// </summary>
internal sealed class UpgradeRequestHead
{
    private static ReadOnlySpan<byte> Prefix => "GET /ws"u8;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    private readonly Dictionary<string, StringValues> _headers = new(StringComparer.OrdinalIgnoreCase);

    private UpgradeRequestHead(string version, Dictionary<string, StringValues> query)
    {
        Version = version;
        Query = query;
    }

    /// <summary>The request line's protocol, e.g. <c>HTTP/1.1</c>.</summary>
    public string Version { get; }

    public Dictionary<string, StringValues> Query { get; }

    public StringValues Header(string name) => _headers.TryGetValue(name, out var values) ? values : default;

    /// <summary>
    /// Ours when the connection starts with <c>GET /ws</c> followed by <c>?</c> or a space: exactly the path, case as
    /// sent. Anything else (another path, <c>/ws/</c>, <c>/WS</c>, TLS, HTTP/2) is ASP.NET Core's, which still maps
    /// <c>/ws</c> itself. Decided from the first 8 bytes.
    /// </summary>
    public static UpgradeRoute Route(ReadOnlySequence<byte> buffer)
    {
        Span<byte> start = stackalloc byte[8];
        var length = (int)Math.Min(buffer.Length, start.Length);
        buffer.Slice(0, length).CopyTo(start);
        start = start[..length];
        var prefixLength = Math.Min(length, Prefix.Length);
        if (!start[..prefixLength].SequenceEqual(Prefix[..prefixLength]))
        {
            return UpgradeRoute.NotOurs;
        }

        if (length < Prefix.Length + 1)
        {
            return UpgradeRoute.NeedMore;
        }

        return start[Prefix.Length] is (byte)'?' or (byte)' ' ? UpgradeRoute.Ours : UpgradeRoute.NotOurs;
    }

    /// <summary>Where the head ends (after its blank line), if it is all in <paramref name="buffer"/>.</summary>
    public static bool TryFindEnd(ReadOnlySequence<byte> buffer, out SequencePosition end)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadTo(out ReadOnlySequence<byte> _, HeadEnd))
        {
            end = reader.Position;
            return true;
        }

        end = default;
        return false;
    }

    /// <summary>Parses a complete head (request line, header lines, blank line); null when it is not well-formed HTTP/1.x.</summary>
    public static UpgradeRequestHead? TryParse(ReadOnlySequence<byte> head)
    {
        // Latin-1 like Kestrel's header decoding: every byte maps to one char, nothing is rejected here.
        var text = Encoding.Latin1.GetString(head.IsSingleSegment ? head.FirstSpan : head.ToArray());
        var lines = text.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || requestLine[0] != "GET" || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }

        var target = requestLine[1];
        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        if ((queryStart < 0 ? target : target[..queryStart]) != "/ws")
        {
            return null;
        }

        var request = new UpgradeRequestHead(requestLine[2], queryStart < 0 ? [] : QueryHelpers.ParseQuery(target[queryStart..]));
        foreach (var line in lines.AsSpan(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            // No name, whitespace before the colon, or an obsolete folded line: malformed (RFC 9112 §5.1, §5.2).
            if (colon <= 0 || char.IsWhiteSpace(line[colon - 1]) || char.IsWhiteSpace(line[0]))
            {
                return null;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(' ', '\t');
            request._headers[name] = request._headers.TryGetValue(name, out var existing) ? StringValues.Concat(existing, value) : new StringValues(value);
        }

        return request;
    }

    /// <summary>
    /// What ASP.NET Core's <c>IsWebSocketRequest</c> checks (HTTP/1.1 upgradable, <c>Connection: Upgrade</c>,
    /// <c>Upgrade: websocket</c>, version 13, a key of 16 bytes), plus a <c>Host</c> and no request body.
    /// </summary>
    public bool IsWebSocketRequest =>
        Version == "HTTP/1.1"
        && HasToken(Header("Connection"), "Upgrade")
        && HasToken(Header("Upgrade"), "websocket")
        && Header("Sec-WebSocket-Version") == "13"
        && IsValidKey(Header("Sec-WebSocket-Key"))
        && Header("Host").Count == 1
        && Header("Content-Length").Count == 0
        && Header("Transfer-Encoding").Count == 0;

    /// <summary>The offered subprotocols, split on commas and trimmed (as <c>WebSocketRequestedProtocols</c>).</summary>
    public IList<string> OfferedProtocols => Split(Header("Sec-WebSocket-Protocol")).ToList();

    private static bool HasToken(StringValues values, string token) =>
        Split(values).Any(v => string.Equals(v, token, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<string> Split(StringValues values) =>
        values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static bool IsValidKey(StringValues key)
    {
        Span<byte> decoded = stackalloc byte[24];
        return key.Count == 1 && Convert.TryFromBase64String(key.ToString(), decoded, out var written) && written == 16;
    }
}
