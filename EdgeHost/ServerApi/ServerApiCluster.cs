using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.ServerApi;

/// <summary>
/// What the API's calls share: the grain factory, whether the cluster is reachable at all (then <c>503</c> before any
/// call), and the one mapping of a failed grain call to a problem.
/// </summary>
internal sealed partial class ServerApiCluster(
    IGrainFactory grains,
    ClusterConnectivity connectivity,
    IOptions<ServerApiOptions> options,
    ILogger<ServerApiCluster> logger)
{
    public IGrainFactory Grains => grains;

    public ServerApiOptions Options { get; } = options.Value;

    /// <summary>The 503 to answer when this edge has no connection to any silo, else null.</summary>
    public ProblemDetails? Unreachable() => connectivity.DisconnectedFor > TimeSpan.Zero
        ? ServerApiProblems.Create(ServerApiProblems.Unavailable, StatusCodes.Status503ServiceUnavailable, "The cluster is unavailable.", "this edge has no connection to the cluster; retry after Retry-After")
        : null;

    public IResult Answer(ProblemDetails problem) => ServerApiProblems.Result(problem, Options.RetryAfter);

    /// <summary>The problem for a failed grain call: 409 for a reused idempotency key, 503 when the cluster did not answer, 500 otherwise.</summary>
    public ProblemDetails ToProblem(Exception ex, string call)
    {
        switch (ex)
        {
            case IdempotencyKeyReusedException:
                return ServerApiProblems.Create(ServerApiProblems.IdempotencyKeyReused, StatusCodes.Status409Conflict, "The idempotency key was already used with other data.", ex.Message);
            case OrleansException or TimeoutException or OperationCanceledException:
                Log.CallUnavailable(logger, ex, call);
                return ServerApiProblems.Create(ServerApiProblems.Unavailable, StatusCodes.Status503ServiceUnavailable, "The cluster is unavailable.", "the cluster did not take the call; retry after Retry-After");
            default:
                Log.CallFailed(logger, ex, call);
                return ServerApiProblems.Create(ServerApiProblems.Internal, StatusCodes.Status500InternalServerError, "The call failed.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1400, LogLevel.Warning, "Server API: {Call} could not reach the cluster", EventName = "ServerApiUnavailable")]
        public static partial void CallUnavailable(ILogger logger, Exception ex, string call);

        [LoggerMessage(1401, LogLevel.Error, "Server API: {Call} failed", EventName = "ServerApiCallFailed")]
        public static partial void CallFailed(ILogger logger, Exception ex, string call);
    }
}
