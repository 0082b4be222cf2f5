using System.Text.RegularExpressions;
using OrleansGateway.Tests.Kubernetes;

namespace OrleansGateway.Tests.Diagnostics;

/// <summary>docs/operations.md's metrics table names exactly the metrics the code defines, as Prometheus shows them.</summary>
public sealed partial class MetricsDocumentationTests
{
    private static readonly string Root = KubernetesManifests.FindRepositoryRoot();

    [Fact]
    public void OperationsMetricsTable_ComparedWithInstrumentsInCode_ListsEveryOneAndNoOther()
    {
        var defined = DefinedMetrics();
        var documented = DocumentedMetrics();

        Assert.True(defined.Count >= 20, $"found only {defined.Count} instruments in the code: the scan is broken");
        Assert.Empty(defined.Except(documented).Order(StringComparer.Ordinal));
        Assert.Empty(documented.Except(defined).Order(StringComparer.Ordinal));
    }

    /// <summary>Every <c>meter.CreateX("ogw.…", …, unit)</c> in the product, named as the OpenTelemetry Prometheus exporter names it.</summary>
    internal static HashSet<string> DefinedMetrics()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var project in new[] { "EdgeHost", "Grains", "Silo", "Streams.Kafka" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, project), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
            {
                foreach (Match match in Instrument().Matches(File.ReadAllText(file)))
                {
                    names.Add(PrometheusName(match.Groups["kind"].Value, match.Groups["name"].Value, match.Groups["unit"].Value, file));
                }
            }
        }

        return names;
    }

    /// <summary>The <c>ogw_…</c> names in the first column of the table under <c>## Metrics</c>, without their labels.</summary>
    private static HashSet<string> DocumentedMetrics()
    {
        var text = File.ReadAllText(Path.Combine(Root, "docs", "operations.md"));
        var start = text.IndexOf("\n## Metrics\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/operations.md has no ## Metrics section");
        var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = text[start..(end < 0 ? text.Length : end)];
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in section.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var firstCell = row.Split('|')[1];
            foreach (Match name in DocumentedName().Matches(firstCell))
            {
                names.Add(name.Groups["name"].Value);
            }
        }

        return names;
    }

    private static string PrometheusName(string kind, string name, string unit, string file)
    {
        var suffix = unit switch
        {
            "ms" => "_milliseconds",
            "s" => "_seconds",
            "By" => "_bytes",
            _ when unit.StartsWith('{') && unit.EndsWith('}') => "",
            _ => throw new InvalidOperationException($"{file}: unit '{unit}' of {name} has no mapping here; add it"),
        };
        return name.Replace('.', '_') + suffix + (kind is "Counter" or "ObservableCounter" ? "_total" : "");
    }

    [GeneratedRegex(""""Create(?<kind>Counter|UpDownCounter|Histogram|Gauge|ObservableCounter|ObservableUpDownCounter|ObservableGauge)(?:<\w+>)?\(\s*"(?<name>ogw\.[^"]+)"\s*,\s*(?:[^,"]+,\s*)?"(?<unit>[^"]*)"""")]
    private static partial Regex Instrument();

    [GeneratedRegex("""`(?<name>ogw_[a-z0-9_]+)(?:\{[^}]*\})?`""")]
    private static partial Regex DocumentedName();
}
