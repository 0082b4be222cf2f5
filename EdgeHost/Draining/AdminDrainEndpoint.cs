using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OrleansGateway.EdgeHost.Configuration;

namespace OrleansGateway.EdgeHost.Draining;

/// <summary>
/// <c>POST /admin/drain</c> with <c>Authorization: Bearer &lt;Gateway:Drain:AdminToken&gt;</c>: drains this edge,
/// then stops it (as SIGTERM would). 202 at once; 401 for a wrong token.
/// </summary>
internal static class AdminDrainEndpoint
{
    public static IResult Handle(HttpRequest request, EdgeDrainer drainer, IOptions<DrainOptions> options, IHostApplicationLifetime lifetime)
    {
        var expected = options.Value.AdminToken!;
        var header = request.Headers.Authorization.ToString();
        var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected)))
        {
            return Results.Unauthorized();
        }

        _ = drainer.DrainAsync().ContinueWith(static (_, l) => ((IHostApplicationLifetime)l!).StopApplication(), lifetime, TaskScheduler.Default);
        return Results.Accepted();
    }
}
