using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansGateway.Tests.Kubernetes;

namespace OrleansGateway.Tests.Diagnostics;

/// <summary>k8s/grafana-dashboard.json queries only metrics that exist: ours as the code defines them, Orleans' as its meter names them.</summary>
public sealed partial class GrafanaDashboardTests
{
    private static readonly string Root = KubernetesManifests.FindRepositoryRoot();

    [Fact]
    public void GrafanaDashboard_EveryQueriedMetric_IsEmittedByTheCodeOrOrleans()
    {
        var queried = QueriedMetrics();
        var emitted = MetricsDocumentationTests.DefinedMetrics();
        emitted.UnionWith(OrleansMetrics());

        Assert.True(queried.Count >= 15, $"found only {queried.Count} metrics in the dashboard's queries: the scan is broken");
        Assert.Empty(queried.Where(m => !emitted.Contains(m) && !emitted.Contains(HistogramSeries().Replace(m, ""))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void GrafanaDashboard_Panels_EachHasAQueryAndAUniqueId()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath()));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();

        Assert.All(panels, p => Assert.NotEmpty(p.GetProperty("targets").EnumerateArray()));
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
    }

    private static string DashboardPath() => Path.Combine(Root, "k8s", "grafana-dashboard.json");

    /// <summary>Every <c>ogw_…</c> and <c>orleans_…</c> name in the panels' <c>expr</c>.</summary>
    private static HashSet<string> QueriedMetrics()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath()));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                foreach (Match match in MetricName().Matches(target.GetProperty("expr").GetString()!))
                {
                    names.Add(match.Value);
                }
            }
        }

        return names;
    }

    /// <summary>
    /// Orleans' instrument names (the constants of its internal <c>InstrumentNames</c>) as Prometheus shows them; only
    /// names without unit or counter suffix are matched, which is what the dashboard uses of Orleans (gauges, up-down counters).
    /// </summary>
    private static IEnumerable<string> OrleansMetrics()
    {
        var instrumentNames = typeof(Orleans.IGrainFactory).Assembly.GetTypes()
            .Concat(typeof(Orleans.Runtime.IManagementGrain).Assembly.GetTypes())
            .Single(t => t.Name == "InstrumentNames");
        return instrumentNames.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => ((string)f.GetRawConstantValue()!).Replace('-', '_').Replace('.', '_'));
    }

    [GeneratedRegex(@"\b(?:ogw|orleans)_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex("_(?:bucket|sum|count)$")]
    private static partial Regex HistogramSeries();
}
