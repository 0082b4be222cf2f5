using System.Diagnostics;
using System.Text.RegularExpressions;
using OrleansGateway.IntegrationTests.Fixtures;

namespace OrleansGateway.IntegrationTests.ServerApi;

/// <summary>
/// Every <c>curl</c> line of docs/server-api.md's <c>sh</c> blocks, run with the real <c>curl</c> binary against a real
/// edge (<c>OGW_API</c>, <c>OGW_KEY</c> set as the page says): each must exit 0 (they use <c>--fail-with-body</c>).
/// </summary>
[Collection(ServerApiCollection.Name)]
public sealed partial class ServerApiDocTests(ServerApiGatewayCluster cluster)
{
    /// <summary>Examples for idempotency keys and channel members, run by <see cref="ServerApiDocIdempotencyAndMembersTests"/>.</summary>
    internal static bool UsesIdempotencyOrMembers(string line) =>
        line.Contains("Idempotency-Key", StringComparison.Ordinal) || line.Contains("/channels/members", StringComparison.Ordinal)
        || line.Contains("/channels/stats", StringComparison.Ordinal);

    [Fact]
    public async Task CurlExamples_InTheDoc_EachSucceedsAgainstARealEdge()
    {
        var lines = CurlLines().Where(l => !UsesIdempotencyOrMembers(l)).ToList();
        Assert.True(lines.Count >= 8, $"expected the doc's curl examples, found {lines.Count}");
        foreach (var line in lines)
        {
            await RunAsync(cluster, line);
        }
    }

    internal static IReadOnlyList<string> CurlLines()
    {
        var doc = File.ReadAllText(Path.Combine(ServerApiDocumentTests.RepositoryRoot(), "docs", "server-api.md"));
        return ShBlock().Matches(doc).SelectMany(m => m.Groups[1].Value.Split('\n'))
            .Select(l => l.Trim()).Where(l => l.StartsWith("curl ", StringComparison.Ordinal)).ToList();
    }

    internal static async Task RunAsync(ServerApiGatewayCluster cluster, string line)
    {
        var start = new ProcessStartInfo("bash", ["-c", line])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["OGW_API"] = cluster.Apis[0].ToString().TrimEnd('/');
        start.Environment["OGW_KEY"] = ServerApiGatewayCluster.WriteKey;
        using var curl = Process.Start(start)!;
        var output = curl.StandardOutput.ReadToEndAsync();
        var error = curl.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await curl.WaitForExitAsync(timeout.Token);
        Assert.True(curl.ExitCode == 0, $"`{line}` exited {curl.ExitCode}: {await output} {await error}");
        Assert.StartsWith("{", await output, StringComparison.Ordinal);
    }

    [GeneratedRegex("```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShBlock();
}
