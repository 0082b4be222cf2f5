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
/// <remarks>
/// Parsed from the bytes, not from a string of the whole head split into lines: every accepted connection pays for
/// this parse (connect cost, docs/benchmarks.md), so only the kept headers' values, the query and an unusual version
/// become strings; every other line is checked for well-formedness and skipped.
/// </remarks>
internal sealed class UpgradeRequestHead
{
    private const string Http11 = "HTTP/1.1";

    /// <summary>The headers kept; <see cref="Header"/> answers empty for any other.</summary>
    private static readonly string[] KeptHeaders =
    [
        "Host", "Connection", "Upgrade", "Sec-WebSocket-Version", "Sec-WebSocket-Key", "Sec-WebSocket-Protocol",
        "Origin", "Authorization", "Content-Length", "Transfer-Encoding",
    ];

    private static readonly byte[][] KeptHeaderBytes = Array.ConvertAll(KeptHeaders, Encoding.ASCII.GetBytes);

    private static ReadOnlySpan<byte> Prefix => "GET /ws"u8;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    private static ReadOnlySpan<byte> LineEnd => "\r\n"u8;

    // Indexed like KeptHeaders.
    private readonly StringValues[] _headers = new StringValues[KeptHeaders.Length];
    private readonly string? _query;
    private Dictionary<string, StringValues>? _parsedQuery;

    private UpgradeRequestHead(string version, string? query)
    {
        Version = version;
        _query = query;
        if (query is not null)
        {
            (AccessToken, LastSeq) = ReadQuery(query);
        }
    }

    /// <summary>The request line's protocol, e.g. <c>HTTP/1.1</c>.</summary>
    public string Version { get; }

    /// <summary>The query's <c>access_token</c> values (decoded, names case-insensitive, as in <see cref="Query"/>).</summary>
    public StringValues AccessToken { get; }

    /// <summary>The query's <c>last_seq</c> values (decoded, names case-insensitive, as in <see cref="Query"/>).</summary>
    public StringValues LastSeq { get; }

    /// <summary>The whole query, parsed on first use (the upgrade itself reads <see cref="AccessToken"/> and <see cref="LastSeq"/>).</summary>
    public Dictionary<string, StringValues> Query => _parsedQuery ??= _query is null ? [] : QueryHelpers.ParseQuery(_query);

    /// <summary>A kept header's values (names case-insensitive); empty for a header not sent or not kept.</summary>
    public StringValues Header(string name)
    {
        for (var i = 0; i < KeptHeaders.Length; i++)
        {
            if (string.Equals(KeptHeaders[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return _headers[i];
            }
        }

        return default;
    }

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
        // Bytes are Latin-1 like Kestrel's header decoding: every byte is the char of the same value, nothing is rejected here.
        ReadOnlySpan<byte> rest = head.IsSingleSegment ? head.FirstSpan : head.ToArray();
        var requestLine = NextLine(ref rest);

        // Exactly "GET <target> HTTP/1.x": three parts split on single spaces.
        var firstSpace = requestLine.IndexOf((byte)' ');
        var target = firstSpace < 0 ? default : requestLine[(firstSpace + 1)..];
        var secondSpace = target.IndexOf((byte)' ');
        var version = secondSpace < 0 ? default : target[(secondSpace + 1)..];
        target = secondSpace < 0 ? default : target[..secondSpace];
        if (secondSpace < 0 || version.Contains((byte)' ') || !requestLine[..firstSpace].SequenceEqual("GET"u8) || !version.StartsWith("HTTP/1."u8))
        {
            return null;
        }

        var queryStart = target.IndexOf((byte)'?');
        if (!(queryStart < 0 ? target : target[..queryStart]).SequenceEqual("/ws"u8))
        {
            return null;
        }

        var request = new UpgradeRequestHead(
            version.SequenceEqual("HTTP/1.1"u8) ? Http11 : Encoding.Latin1.GetString(version),
            queryStart < 0 ? null : Encoding.Latin1.GetString(target[queryStart..]));
        while (!rest.IsEmpty)
        {
            var line = NextLine(ref rest);
            if (line.IsEmpty)
            {
                continue;
            }

            var colon = line.IndexOf((byte)':');
            // No name, whitespace before the colon, or an obsolete folded line: malformed (RFC 9112 §5.1, §5.2).
            if (colon <= 0 || char.IsWhiteSpace((char)line[colon - 1]) || char.IsWhiteSpace((char)line[0]))
            {
                return null;
            }

            var kept = Kept(line[..colon]);
            if (kept >= 0)
            {
                var value = Encoding.Latin1.GetString(line[(colon + 1)..].Trim(" \t"u8));
                request._headers[kept] = StringValues.Concat(request._headers[kept], value);
            }
        }

        return request;
    }

    /// <summary>
    /// What ASP.NET Core's <c>IsWebSocketRequest</c> checks (HTTP/1.1 upgradable, <c>Connection: Upgrade</c>,
    /// <c>Upgrade: websocket</c>, version 13, a key of 16 bytes), plus a <c>Host</c> and no request body.
    /// </summary>
    public bool IsWebSocketRequest =>
        Version == Http11
        && HasToken(Header("Connection"), "Upgrade")
        && HasToken(Header("Upgrade"), "websocket")
        && Header("Sec-WebSocket-Version") == "13"
        && IsValidKey(Header("Sec-WebSocket-Key"))
        && Header("Host").Count == 1
        && Header("Content-Length").Count == 0
        && Header("Transfer-Encoding").Count == 0;

    /// <summary>The offered subprotocols, split on commas and trimmed (as <c>WebSocketRequestedProtocols</c>).</summary>
    public IList<string> OfferedProtocols
    {
        get
        {
            var values = Header("Sec-WebSocket-Protocol");
            if (values.Count == 0)
            {
                return [];
            }

            var offered = new List<string>();
            foreach (var value in values)
            {
                offered.AddRange((value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            }

            return offered;
        }
    }

    /// <summary>The line at the start of <paramref name="rest"/> (without its CRLF), which then moves past it.</summary>
    private static ReadOnlySpan<byte> NextLine(ref ReadOnlySpan<byte> rest)
    {
        var end = rest.IndexOf(LineEnd);
        var line = end < 0 ? rest : rest[..end];
        rest = end < 0 ? default : rest[(end + LineEnd.Length)..];
        return line;
    }

    private static int Kept(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < KeptHeaderBytes.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(name, KeptHeaderBytes[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The two query parameters the upgrade reads, decoded and matched exactly as <c>QueryHelpers.ParseQuery</c> does.</summary>
    private static (StringValues AccessToken, StringValues LastSeq) ReadQuery(string query)
    {
        StringValues accessToken = default, lastSeq = default;
        foreach (var pair in new QueryStringEnumerable(query))
        {
            var name = pair.DecodeName().Span;
            if (name.Equals("access_token", StringComparison.OrdinalIgnoreCase))
            {
                accessToken = StringValues.Concat(accessToken, pair.DecodeValue().ToString());
            }
            else if (name.Equals("last_seq", StringComparison.OrdinalIgnoreCase))
            {
                lastSeq = StringValues.Concat(lastSeq, pair.DecodeValue().ToString());
            }
        }

        return (accessToken, lastSeq);
    }

    private static bool HasToken(StringValues values, string token)
    {
        foreach (var value in values)
        {
            var rest = (value ?? "").AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var part = (comma < 0 ? rest : rest[..comma]).Trim();
                if (part.Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                rest = comma < 0 ? default : rest[(comma + 1)..];
            }
        }

        return false;
    }

    private static bool IsValidKey(StringValues key)
    {
        Span<byte> decoded = stackalloc byte[24];
        return key.Count == 1 && Convert.TryFromBase64String(key.ToString(), decoded, out var written) && written == 16;
    }
}
