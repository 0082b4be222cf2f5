using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace OrleansGateway.Tests.Kubernetes;

/// <summary>One object from a YAML document under <c>k8s/</c>.</summary>
internal sealed record KubernetesObject(string File, string Kind, string Name, string? Namespace, YamlMappingNode Root)
{
    public override string ToString() => $"{Kind}/{Name} ({File})";
}

/// <summary>An environment variable as a container sees it; <see cref="Value"/> is null when only the cluster knows it.</summary>
internal sealed record EnvironmentVariable(string Name, string? Value, string Source, string? FieldPath);

/// <summary>Reads every YAML document under <c>k8s/</c> and answers questions about pods, containers and their environment.</summary>
internal sealed partial class KubernetesManifests
{
    private static readonly Lazy<KubernetesManifests> Repository = new(() => Load(Path.Combine(FindRepositoryRoot(), "k8s")));

    private KubernetesManifests(string directory, IReadOnlyList<KubernetesObject> objects)
    {
        Directory = directory;
        Objects = objects;
    }

    /// <summary>The manifests of this repository (<c>k8s/</c> next to <c>OrleansGateway.sln</c>).</summary>
    public static KubernetesManifests Current => Repository.Value;

    public string Directory { get; }

    public IReadOnlyList<KubernetesObject> Objects { get; }

    /// <summary>Objects with a pod template.</summary>
    public IEnumerable<KubernetesObject> Workloads => Objects.Where(o => o.Kind is "Deployment" or "StatefulSet" or "DaemonSet" or "Job");

    public IEnumerable<KubernetesObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public KubernetesObject Single(string kind, string name) =>
        Objects.SingleOrDefault(o => o.Kind == kind && o.Name == name)
        ?? throw new InvalidOperationException($"No {kind} named '{name}' under {Directory}.");

    public static KubernetesManifests Load(string directory)
    {
        var objects = new List<KubernetesObject>();
        foreach (var file in YamlFiles(directory))
        {
            var stream = new YamlStream();
            using (var reader = File.OpenText(file))
            {
                stream.Load(reader);
            }

            foreach (var document in stream.Documents)
            {
                if (document.RootNode is not YamlMappingNode root)
                {
                    continue;
                }

                var relative = Path.GetRelativePath(directory, file).Replace('\\', '/');
                var kind = root.Get("kind").Scalar() ?? throw new InvalidOperationException($"{relative}: a document without 'kind'.");
                objects.Add(new(relative, kind, root.Get("metadata", "name").Scalar() ?? "", root.Get("metadata", "namespace").Scalar(), root));
            }
        }

        return new(directory, objects);
    }

    public static IEnumerable<string> YamlFiles(string directory) =>
        System.IO.Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);

    public static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OrleansGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No OrleansGateway.sln above {AppContext.BaseDirectory}.");
    }

    public static YamlNode? PodTemplate(KubernetesObject workload) => workload.Root.Get("spec", "template");

    public static IReadOnlyDictionary<string, string> PodLabels(KubernetesObject workload) => PodTemplate(workload).Get("metadata", "labels").ScalarMap();

    public static IEnumerable<YamlMappingNode> Containers(KubernetesObject workload) =>
        PodTemplate(workload).Get("spec", "containers").Items().OfType<YamlMappingNode>();

    public static YamlMappingNode Container(KubernetesObject workload, string name) =>
        Containers(workload).SingleOrDefault(c => c.Get("name").Scalar() == name)
        ?? throw new InvalidOperationException($"{workload} has no container '{name}'.");

    /// <summary>Kubernetes' default when the field is absent: 30 seconds.</summary>
    public static TimeSpan TerminationGracePeriod(KubernetesObject workload) =>
        TimeSpan.FromSeconds(PodTemplate(workload).Get("spec", "terminationGracePeriodSeconds").Int() ?? 30);

    /// <summary>The container's environment: <c>envFrom</c> ConfigMaps first, then <c>env</c> entries, which override them.</summary>
    public IReadOnlyDictionary<string, EnvironmentVariable> Environment(KubernetesObject workload, YamlNode container)
    {
        var result = new Dictionary<string, EnvironmentVariable>(StringComparer.Ordinal);
        foreach (var source in container.Get("envFrom").Items())
        {
            var prefix = source.Get("prefix").Scalar() ?? "";
            if (source.Get("configMapRef", "name").Scalar() is { } configMapName)
            {
                foreach (var (key, value) in ConfigMapData(workload, configMapName))
                {
                    result[prefix + key] = new(prefix + key, value, $"configMap {configMapName}", null);
                }
            }
        }

        var labels = PodLabels(workload);
        foreach (var entry in container.Get("env").Items())
        {
            var name = entry.Get("name").Scalar() ?? throw new InvalidOperationException($"{workload}: an env entry without a name.");
            var valueFrom = entry.Get("valueFrom");
            if (valueFrom is null)
            {
                result[name] = new(name, entry.Get("value").Scalar() ?? "", "value", null);
            }
            else if (valueFrom.Get("fieldRef", "fieldPath").Scalar() is { } fieldPath)
            {
                var label = LabelFieldPath().Match(fieldPath);
                var value = label.Success ? labels.GetValueOrDefault(label.Groups["key"].Value) : null;
                result[name] = new(name, value, "fieldRef", fieldPath);
            }
            else if (valueFrom.Get("configMapKeyRef") is { } configMapKeyRef)
            {
                var configMapName = configMapKeyRef.Get("name").Scalar() ?? "";
                var key = configMapKeyRef.Get("key").Scalar() ?? "";
                var data = ConfigMapData(workload, configMapName);
                result[name] = new(name, data.TryGetValue(key, out var value) ? value
                    : throw new InvalidOperationException($"{workload}: ConfigMap '{configMapName}' has no key '{key}'."), $"configMap {configMapName}", null);
            }
            else
            {
                result[name] = new(name, null, "secret or resource", null);
            }
        }

        return result;
    }

    /// <summary>Ports the container declares: numbers, and names mapped to numbers.</summary>
    public static IReadOnlyDictionary<string, int> ContainerPorts(YamlNode container)
    {
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var port in container.Get("ports").Items())
        {
            var number = port.Get("containerPort").Int() ?? throw new InvalidOperationException("A port without containerPort.");
            ports[number.ToString(CultureInfo.InvariantCulture)] = number;
            if (port.Get("name").Scalar() is { } name)
            {
                ports[name] = number;
            }
        }

        return ports;
    }

    private IReadOnlyDictionary<string, string> ConfigMapData(KubernetesObject workload, string name)
    {
        var configMap = Objects.SingleOrDefault(o => o.Kind == "ConfigMap" && o.Name == name && o.Namespace == workload.Namespace)
            ?? throw new InvalidOperationException($"{workload} reads ConfigMap '{name}', which is not under {Directory}.");
        return configMap.Root.Get("data").ScalarMap();
    }

    [GeneratedRegex(@"^metadata\.labels\['(?<key>[^']+)'\]$")]
    private static partial Regex LabelFieldPath();
}

/// <summary>Null-tolerant navigation over YamlDotNet's representation model.</summary>
internal static class YamlNodeExtensions
{
    public static YamlNode? Get(this YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out node))
            {
                return null;
            }
        }

        return node;
    }

    public static string? Scalar(this YamlNode? node) => (node as YamlScalarNode)?.Value;

    public static int? Int(this YamlNode? node) =>
        int.TryParse(node.Scalar(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static IEnumerable<YamlNode> Items(this YamlNode? node) => node is YamlSequenceNode sequence ? sequence.Children : [];

    public static IEnumerable<string> Strings(this YamlNode? node) => node.Items().Select(i => i.Scalar()).OfType<string>();

    public static IReadOnlyDictionary<string, string> ScalarMap(this YamlNode? node) =>
        node is YamlMappingNode mapping
            ? mapping.Children.ToDictionary(c => c.Key.Scalar() ?? "", c => c.Value.Scalar() ?? "", StringComparer.Ordinal)
            : new Dictionary<string, string>();
}
