using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using OrleansGateway.EdgeHost.Auth;
using OrleansGateway.EdgeHost.Protocol;

namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>Reading and checking what a request carries, with the protocol's own rules for ids, channels and keys.</summary>
internal static class ServerApiRequests
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const int MaxKeyLength = 64;
    private static readonly byte[] s_null = "null"u8.ToArray();

    /// <summary>Reads a JSON body of at most <paramref name="maxBytes"/>: a value, or the problem to answer.</summary>
    public static async Task<(T? Value, ProblemDetails? Problem)> ReadBodyAsync<T>(HttpContext http, JsonTypeInfo<T> type, long maxBytes)
        where T : class
    {
        if (http.Request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        // Kestrel enforces it while reading a chunked body too (BadHttpRequestException 413).
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        try
        {
            var value = await JsonSerializer.DeserializeAsync(http.Request.Body, type, http.RequestAborted);
            return value is null
                ? (null, ServerApiProblems.Create(ServerApiProblems.MalformedJson, StatusCodes.Status400BadRequest, "The body is not valid JSON for this call.", "the body must be a JSON object"))
                : (value, null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(maxBytes));
        }
        catch (JsonException ex)
        {
            return (null, ServerApiProblems.Create(ServerApiProblems.MalformedJson, StatusCodes.Status400BadRequest, "The body is not valid JSON for this call.", ex.Message));
        }
    }

    /// <summary>True when the request has no body at all (a bodiless POST).</summary>
    public static bool HasNoBody(HttpRequest request) =>
        request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.ContainsKey("Transfer-Encoding"));

    /// <summary>The raw UTF-8 JSON of <paramref name="data"/>, untouched; JSON <c>null</c> when absent (as the protocol's).</summary>
    public static byte[] Raw(JsonElement data) =>
        data.ValueKind == JsonValueKind.Undefined ? s_null : System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(data).ToArray();

    public static JsonElement Parse(byte[] data)
    {
        using var document = JsonDocument.Parse(data);
        return document.RootElement.Clone();
    }

    public static string? CheckClientId(string? id, string field) =>
        ClientIds.IsValid(id) ? null : $"{field} must be 1-128 chars of [A-Za-z0-9._:@-]";

    public static string? CheckChannel(string? channel, string field) =>
        ChannelNames.IsValid(channel) ? null : $"{field} must be 1-{ChannelNames.MaxLength} chars of [A-Za-z0-9._:@/-]";

    /// <summary>The sender name: the body's <c>from</c>, else the key's name; same characters as a client id.</summary>
    public static string? CheckFrom(string from) =>
        ClientIds.IsValid(from) ? null : "from must be 1-128 chars of [A-Za-z0-9._:@-] (it defaults to the API key's name)";

    public static string? CheckKey(string? key, string field) =>
        key is null or { Length: >= 1 and <= MaxKeyLength } ? null : $"{field} must be 1-{MaxKeyLength} characters";

    public static string? CheckByeCode(string code) => code is ByeCodes.Policy or ByeCodes.Replaced or ByeCodes.TokenExpired
        or ByeCodes.Draining or ByeCodes.SlowConsumer
        ? null
        : $"code must be one of {ByeCodes.Policy}, {ByeCodes.Replaced}, {ByeCodes.TokenExpired}, {ByeCodes.Draining}, {ByeCodes.SlowConsumer}";

    /// <summary>An optional non-negative integer query value: the value, or the reason it is invalid.</summary>
    public static (long? Value, string? Error) OptionalNumber(string? text, string name, long min = 0) =>
        text is null ? (null, null)
        : long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min ? (value, null)
        : (null, $"{name} must be an integer >= {min}");

    private static ProblemDetails TooLarge(long maxBytes) =>
        ServerApiProblems.Create(ServerApiProblems.BodyTooLarge, StatusCodes.Status413PayloadTooLarge, "The body is too large.", $"the limit is {maxBytes} bytes");
}
