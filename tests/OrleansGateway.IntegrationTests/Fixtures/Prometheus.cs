using System.Globalization;

namespace OrleansGateway.IntegrationTests.Fixtures;

/// <summary>Reads values from a host's Prometheus text at <c>/metrics</c>.</summary>
internal static class Prometheus
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static Uri MetricsUri(Uri host) => new UriBuilder(host) { Scheme = "http", Path = "/metrics", Query = "" }.Uri;

    public static Task<string> ScrapeAsync(Uri host) => Http.GetStringAsync(MetricsUri(host));

    /// <summary>The sum of <paramref name="metric"/> over its series that carry every one of <paramref name="labels"/> (<c>code="1009"</c>); 0 when none.</summary>
    public static async Task<double> ReadAsync(Uri host, string metric, params string[] labels) => Sum(await ScrapeAsync(host), metric, labels);

    /// <summary>Scrapes until <paramref name="metric"/> reaches <paramref name="atLeast"/> (the exporter caches its answer briefly); returns the value seen.</summary>
    public static async Task<double> WaitForAsync(Uri host, string metric, double atLeast, string[]? labels = null, TimeSpan? timeout = null)
    {
        double value = 0;
        await GatewayClusterExtensions.EventuallyAsync(async () => (value = await ReadAsync(host, metric, labels ?? [])) >= atLeast,
            timeout ?? TimeSpan.FromSeconds(10), $"{metric}{{{string.Join(',', labels ?? [])}}} >= {atLeast} at {host} (last {value})");
        return value;
    }

    public static double Sum(string text, string metric, params string[] labels)
    {
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var nameEnd = line.IndexOfAny(['{', ' ']);
            if (nameEnd < 0 || !line.AsSpan(0, nameEnd).SequenceEqual(metric))
            {
                continue;
            }

            var labelsEnd = line[nameEnd] == '{' ? line.IndexOf('}', nameEnd) : nameEnd;
            var series = line[nameEnd..labelsEnd];
            if (labels.Any(l => !series.Contains(l, StringComparison.Ordinal)))
            {
                continue;
            }

            // "name{labels} value [timestamp]"
            var value = line[(labelsEnd + 1)..].Trim().Split(' ')[0];
            sum += double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return sum;
    }
}
