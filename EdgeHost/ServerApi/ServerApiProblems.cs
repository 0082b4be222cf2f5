using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>
/// The server API's errors as RFC 9457 problem documents, one stable <c>type</c> URI per kind of error
/// (docs/server-api.md, "Errors"): clients switch on <c>type</c>, never on <c>title</c> or <c>detail</c>.
/// </summary>
internal static class ServerApiProblems
{
    public const string ContentType = "application/problem+json";
    private const string Prefix = "urn:orleans-gateway:problem:";

    public const string Unauthorized = Prefix + "unauthorized";
    public const string Forbidden = Prefix + "forbidden";
    public const string MalformedJson = Prefix + "malformed-json";
    public const string InvalidRequest = Prefix + "invalid-request";
    public const string BodyTooLarge = Prefix + "body-too-large";
    public const string IdempotencyKeyReused = Prefix + "idempotency-key-reused";
    public const string Unavailable = Prefix + "unavailable";
    public const string Internal = Prefix + "internal";

    public static ProblemDetails Create(string type, int status, string title, string? detail = null) =>
        new() { Type = type, Status = status, Title = title, Detail = detail };

    public static ProblemDetails Invalid(string detail) =>
        Create(InvalidRequest, StatusCodes.Status400BadRequest, "The request is invalid.", detail);

    /// <summary>Writes <paramref name="problem"/> as the response; a <c>503</c> carries <c>Retry-After</c>.</summary>
    public static IResult Result(ProblemDetails problem, TimeSpan retryAfter) =>
        new ProblemResult(problem, retryAfter);

    private sealed class ProblemResult(ProblemDetails problem, TimeSpan retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var status = problem.Status ?? StatusCodes.Status500InternalServerError;
            httpContext.Response.StatusCode = status;
            if (status == StatusCodes.Status503ServiceUnavailable)
            {
                httpContext.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            }
            else if (status == StatusCodes.Status401Unauthorized)
            {
                httpContext.Response.Headers.WWWAuthenticate = "apikey";
            }

            return httpContext.Response.WriteAsJsonAsync(problem, ServerApiJsonContext.Default.ProblemDetails, ContentType);
        }
    }
}
