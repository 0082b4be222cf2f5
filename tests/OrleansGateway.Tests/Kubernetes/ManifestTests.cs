using System.Globalization;
using OrleansGateway.Hosting;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace OrleansGateway.Tests.Kubernetes;

/// <summary>Invariants of the manifests under <c>k8s/</c> that docs/operations.md relies on.</summary>
public sealed class ManifestTests
{
    /// <summary>The silo's default HostOptions.ShutdownTimeout (Gateway:Silo:ShutdownTimeout) when it is not set.</summary>
    private static readonly TimeSpan DefaultSiloShutdownTimeout = TimeSpan.FromSeconds(90);

    /// <summary>The aspnet image's ASPNETCORE_HTTP_PORTS.</summary>
    private const string DefaultHttpPort = "8080";

    private static readonly string[] HealthPaths = ["/health/ready", "/health/live"];

    private static readonly string[] ProbeKinds = ["readinessProbe", "livenessProbe", "startupProbe"];

    /// <summary>What Microsoft.Orleans.Hosting.Kubernetes 10.4.2 (KubernetesClusterAgent) does with pods: read its own,
    /// patch its orleans/* labels, list and watch the cluster's, delete those of dead silos.</summary>
    private static readonly string[] KubernetesHostingPodVerbs = ["get", "list", "watch", "patch", "delete"];

    private static KubernetesManifests Manifests => KubernetesManifests.Current;

    [Fact]
    public void Kustomization_Resources_ListEveryManifestFile()
    {
        var kustomization = Manifests.Single("Kustomization", "");
        var listed = kustomization.Root.Get("resources").Strings().Order(StringComparer.Ordinal).ToList();
        var files = KubernetesManifests.YamlFiles(Manifests.Directory)
            .Select(f => Path.GetRelativePath(Manifests.Directory, f).Replace('\\', '/'))
            .Where(f => f != kustomization.File)
            .ToList();

        Assert.Equal(files, listed);
        Assert.Equal("ogw", kustomization.Root.Get("namespace").Scalar());
    }

    [Fact]
    public void EdgeDeployment_TerminationGracePeriod_ExceedsTheEdgeHostShutdownTimeout()
    {
        var edge = Manifests.Single("Deployment", "edge");
        var environment = Manifests.Environment(edge, KubernetesManifests.Container(edge, "edge"));
        var drain = new OrleansGateway.EdgeHost.Configuration.DrainOptions();
        drain.Deadline = TimeSpanOr(environment, "Gateway__Drain__Deadline", drain.Deadline);
        var options = new OrleansGateway.EdgeHost.Configuration.EdgeOptions();
        options.CloseTimeout = TimeSpanOr(environment, "Gateway__Edge__CloseTimeout", options.CloseTimeout);

        // What the edge's host really waits on SIGTERM (drain deadline + last close handshakes + margin), not the
        // deadline alone: a grace between the two would have the kubelet kill an edge still closing sessions.
        var shutdown = OrleansGateway.EdgeHost.Hosting.EdgeHostingExtensions.HostShutdownTimeout(drain, options);
        var grace = KubernetesManifests.TerminationGracePeriod(edge);

        Assert.True(shutdown > drain.Deadline);
        Assert.True(grace > shutdown, $"edge terminationGracePeriodSeconds ({grace.TotalSeconds} s) must exceed the edge host's shutdown timeout ({shutdown.TotalSeconds} s).");
    }

    [Fact]
    public void SiloDeployment_TerminationGracePeriod_ExceedsShutdownTimeout()
    {
        var silo = Manifests.Single("Deployment", "silo");
        var environment = Manifests.Environment(silo, KubernetesManifests.Container(silo, "silo"));
        var shutdownTimeout = TimeSpanOr(environment, "Gateway__Silo__ShutdownTimeout", DefaultSiloShutdownTimeout);

        var grace = KubernetesManifests.TerminationGracePeriod(silo);

        Assert.True(grace > shutdownTimeout, $"silo terminationGracePeriodSeconds ({grace.TotalSeconds} s) must exceed the shutdown timeout ({shutdownTimeout.TotalSeconds} s).");
    }

    [Fact]
    public void Probes_HttpGetAndTcpSocket_UseHealthPathsOnDeclaredPorts()
    {
        var failures = new List<string>();
        foreach (var workload in Manifests.Workloads)
        {
            foreach (var container in KubernetesManifests.Containers(workload))
            {
                var ports = KubernetesManifests.ContainerPorts(container);
                foreach (var kind in ProbeKinds)
                {
                    var probe = container.Get(kind);
                    var where = $"{workload} container {container.Get("name").Scalar()} {kind}";
                    if (probe.Get("httpGet") is { } httpGet)
                    {
                        if (!HealthPaths.Contains(httpGet.Get("path").Scalar()))
                        {
                            failures.Add($"{where}: path '{httpGet.Get("path").Scalar()}' is not one of {string.Join(", ", HealthPaths)}.");
                        }

                        CheckPort(httpGet.Get("port").Scalar(), where);
                    }

                    if (probe.Get("tcpSocket") is { } tcpSocket)
                    {
                        CheckPort(tcpSocket.Get("port").Scalar(), where);
                    }
                }

                void CheckPort(string? port, string where)
                {
                    if (port is null || !ports.ContainsKey(port))
                    {
                        failures.Add($"{where}: port '{port}' is not a declared containerPort ({string.Join(", ", ports.Keys)}).");
                    }
                }
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public void GatewayDeployments_Probes_ReadinessAndLivenessOnHealthEndpoints()
    {
        foreach (var (deployment, container) in GatewayContainers())
        {
            Assert.Equal("/health/ready", container.Get("readinessProbe", "httpGet", "path").Scalar());
            Assert.Equal("/health/live", container.Get("livenessProbe", "httpGet", "path").Scalar());
            var ports = KubernetesManifests.ContainerPorts(container);
            var environment = Manifests.Environment(deployment, container);
            var httpPort = environment.TryGetValue("ASPNETCORE_HTTP_PORTS", out var variable) ? variable.Value : DefaultHttpPort;
            Assert.True(
                ports.TryGetValue(container.Get("readinessProbe", "httpGet", "port").Scalar() ?? "", out var probed)
                && probed.ToString(CultureInfo.InvariantCulture) == httpPort,
                $"{deployment}: the probes must target the port Kestrel listens on (ASPNETCORE_HTTP_PORTS={httpPort}).");
        }
    }

    [Fact]
    public void GatewayEnvironment_EveryGatewayKey_MapsToConfigurationProperty()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var workload in Manifests.Workloads)
        {
            foreach (var container in KubernetesManifests.Containers(workload))
            {
                names.UnionWith(Manifests.Environment(workload, container).Keys);
            }
        }

        foreach (var configMap in Manifests.OfKind("ConfigMap"))
        {
            names.UnionWith(configMap.Root.Get("data").ScalarMap().Keys);
        }

        var gatewayNames = names.Where(n => n.StartsWith("Gateway", StringComparison.OrdinalIgnoreCase)).ToList();
        var failures = gatewayNames
            .Select(n => ConfigurationKeys.Check(ConfigurationKeys.FromEnvironmentVariable(n)))
            .OfType<string>()
            .ToList();

        Assert.NotEmpty(gatewayNames);
        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("Gateway:Cluster:Redis")]
    [InlineData("Gateway:Lease:Ttl")]
    [InlineData("Gateway:Edge:AllowedOrigins:0")]
    [InlineData("Gateway:Auth:Keys:0:Secret")]
    [InlineData("Gateway:Auth:Keys:1:PublicKeyPem")]
    [InlineData("gateway:mailbox:maxage")]
    [InlineData("Gateway:Drain:Deadline")]
    [InlineData("Gateway:Kafka:Streams:Topics:0")]
    [InlineData("Gateway:Kafka:Upstream:Topic")]
    [InlineData("Gateway:Drain:AdminToken")]
    [InlineData("Gateway:Silo:ShutdownTimeout")]
    [InlineData("Gateway:Dashboard:Password")]
    [InlineData("Gateway:Telemetry:TraceSampleRatio")]
    [InlineData("Gateway:EmbeddedSilo")]
    public void ConfigurationKeys_BindableKey_IsAccepted(string key)
    {
        Assert.Null(ConfigurationKeys.Check(key));
    }

    [Theory]
    [InlineData("Gateway:Edge:MaxFrameByte")]
    [InlineData("Gateway:Lease:RenewInterval")]
    [InlineData("Gateway:Auth:Keys:0")]
    [InlineData("Gateway:Auth:Keys:Secret")]
    [InlineData("Gateway:Edge:MaxFrameBytes:0")]
    [InlineData("Gateway:Auth:Issuer:0")]
    [InlineData("Gateway:Cluster")]
    [InlineData("Gateway:Nope:Value")]
    [InlineData("Gateway:Drain:Dedline")]
    [InlineData("Gateway:Kafka:Topics:0")]
    [InlineData("Gateway_Cluster:Redis")]
    public void ConfigurationKeys_UnknownOrUnbindableKey_IsRejected(string key)
    {
        Assert.NotNull(ConfigurationKeys.Check(key));
    }

    [Fact]
    public void SiloPods_OrleansLabels_MatchOrleansEnvironmentAndClusterOptions()
    {
        var silo = Manifests.Single("Deployment", "silo");
        var labels = KubernetesManifests.PodLabels(silo);
        var environment = Manifests.Environment(silo, KubernetesManifests.Container(silo, "silo"));

        var serviceId = Assert.Contains("orleans/serviceId", labels);
        var clusterId = Assert.Contains("orleans/clusterId", labels);

        Assert.False(string.IsNullOrWhiteSpace(serviceId));
        Assert.False(string.IsNullOrWhiteSpace(clusterId));
        Assert.Equal(serviceId, Assert.Contains("ORLEANS_SERVICE_ID", environment).Value);
        Assert.Equal(clusterId, Assert.Contains("ORLEANS_CLUSTER_ID", environment).Value);
        Assert.Equal(serviceId, ValueOr(environment, "Gateway__Cluster__ServiceId", GatewayClusterOptions.DefaultId));
        Assert.Equal(clusterId, ValueOr(environment, "Gateway__Cluster__ClusterId", GatewayClusterOptions.DefaultId));
    }

    [Fact]
    public void EdgeAndSilo_ClusterIdentity_Match()
    {
        var silo = Manifests.Single("Deployment", "silo");
        var edge = Manifests.Single("Deployment", "edge");
        var siloEnvironment = Manifests.Environment(silo, KubernetesManifests.Container(silo, "silo"));
        var edgeEnvironment = Manifests.Environment(edge, KubernetesManifests.Container(edge, "edge"));

        foreach (var key in new[] { "Gateway__Cluster__ServiceId", "Gateway__Cluster__ClusterId", "Gateway__Cluster__Redis" })
        {
            Assert.Equal(ValueOr(siloEnvironment, key, null), ValueOr(edgeEnvironment, key, null));
        }

        Assert.False(string.IsNullOrWhiteSpace(ValueOr(edgeEnvironment, "Gateway__Cluster__Redis", null)), "Redis clustering needs Gateway__Cluster__Redis.");
    }

    [Fact]
    public void SiloPods_DownwardApi_ProvidesPodNameNamespaceAndIp()
    {
        var silo = Manifests.Single("Deployment", "silo");
        var environment = Manifests.Environment(silo, KubernetesManifests.Container(silo, "silo"));

        Assert.Equal("metadata.name", Assert.Contains("POD_NAME", environment).FieldPath);
        Assert.Equal("metadata.namespace", Assert.Contains("POD_NAMESPACE", environment).FieldPath);
        Assert.Equal("status.podIP", Assert.Contains("POD_IP", environment).FieldPath);
        Assert.Equal("status.podIP", Assert.Contains("Gateway__Cluster__AdvertisedAddress", environment).FieldPath);
    }

    [Fact]
    public void SiloDeployment_ContainerPorts_IncludeOrleansPorts()
    {
        var silo = Manifests.Single("Deployment", "silo");
        var container = KubernetesManifests.Container(silo, "silo");
        var environment = Manifests.Environment(silo, container);
        var ports = KubernetesManifests.ContainerPorts(container).Values.ToHashSet();

        Assert.Contains(int.Parse(ValueOr(environment, "Gateway__Cluster__SiloPort", null) ?? $"{GatewayClusterOptions.DefaultSiloPort}", CultureInfo.InvariantCulture), ports);
        Assert.Contains(int.Parse(ValueOr(environment, "Gateway__Cluster__GatewayPort", null) ?? $"{GatewayClusterOptions.DefaultGatewayPort}", CultureInfo.InvariantCulture), ports);
    }

    [Fact]
    public void SiloRole_PodRules_GrantKubernetesHostingVerbs()
    {
        var silo = Manifests.Single("Deployment", "silo");
        var podSpec = KubernetesManifests.PodTemplate(silo).Get("spec");
        var serviceAccount = podSpec.Get("serviceAccountName").Scalar() ?? "default";
        Assert.NotEqual("false", podSpec.Get("automountServiceAccountToken").Scalar());
        Assert.Contains(Manifests.OfKind("ServiceAccount"), a => a.Name == serviceAccount);

        var roles = Manifests.OfKind("RoleBinding")
            .Where(b => b.Root.Get("subjects").Items().Any(s =>
                s.Get("kind").Scalar() == "ServiceAccount"
                && s.Get("name").Scalar() == serviceAccount
                && (s.Get("namespace").Scalar() ?? b.Namespace) == silo.Namespace))
            .Where(b => b.Root.Get("roleRef", "kind").Scalar() == "Role")
            .Select(b => Manifests.Single("Role", b.Root.Get("roleRef", "name").Scalar() ?? ""))
            .ToList();
        var verbs = roles
            .SelectMany(r => r.Root.Get("rules").Items())
            .Where(rule => rule.Get("apiGroups").Strings().Contains("") && rule.Get("resources").Strings().Any(r => r is "pods" or "*"))
            .SelectMany(rule => rule.Get("verbs").Strings())
            .ToHashSet();

        Assert.NotEmpty(roles);
        Assert.All(KubernetesHostingPodVerbs, verb => Assert.True(verbs.Contains(verb) || verbs.Contains("*"), $"the silo's Role lacks '{verb}' on pods."));
    }

    [Fact]
    public void Redis_Persistence_AppendOnlyOnVolumeClaim()
    {
        var redis = Manifests.Single("StatefulSet", "redis");
        var container = KubernetesManifests.Container(redis, "redis");
        var arguments = container.Get("command").Strings().Concat(container.Get("args").Strings()).ToList();
        var claims = redis.Root.Get("spec", "volumeClaimTemplates").Items().Select(c => c.Get("metadata", "name").Scalar()).ToHashSet();
        var dataDirectory = OptionValue(arguments, "--dir") ?? "/data";
        var mount = container.Get("volumeMounts").Items().SingleOrDefault(m => m.Get("mountPath").Scalar() == dataDirectory);

        Assert.Equal("yes", OptionValue(arguments, "--appendonly"));
        Assert.NotNull(mount);
        Assert.Contains(mount.Get("name").Scalar(), claims);
        Assert.Equal("noeviction", OptionValue(arguments, "--maxmemory-policy") ?? "noeviction");
    }

    [Fact]
    public void Workloads_Containers_DeclareResourceRequestsAndMemoryLimit()
    {
        var failures = new List<string>();
        foreach (var workload in Manifests.Workloads)
        {
            foreach (var container in KubernetesManifests.Containers(workload))
            {
                var resources = container.Get("resources");
                foreach (var (section, resource) in new[] { ("requests", "cpu"), ("requests", "memory"), ("limits", "memory") })
                {
                    if (string.IsNullOrWhiteSpace(resources.Get(section, resource).Scalar()))
                    {
                        failures.Add($"{workload} container {container.Get("name").Scalar()}: no resources.{section}.{resource}.");
                    }
                }
            }
        }

        Assert.NotEmpty(Manifests.Workloads);
        Assert.Empty(failures);
    }

    [Fact]
    public void Deployments_DisruptionBudget_SelectsTheirPods()
    {
        var budgets = Manifests.OfKind("PodDisruptionBudget").ToList();
        foreach (var deployment in Manifests.OfKind("Deployment"))
        {
            var labels = KubernetesManifests.PodLabels(deployment);
            Assert.True(
                budgets.Exists(b => b.Namespace == deployment.Namespace && Selects(b.Root.Get("spec", "selector"), labels)),
                $"{deployment}: no PodDisruptionBudget selects its pods.");
        }
    }

    [Fact]
    public void Deployments_Autoscaler_TargetsEachOnCpu()
    {
        var autoscalers = Manifests.OfKind("HorizontalPodAutoscaler").ToList();
        foreach (var deployment in Manifests.OfKind("Deployment"))
        {
            var autoscaler = autoscalers.SingleOrDefault(a =>
                a.Namespace == deployment.Namespace
                && a.Root.Get("spec", "scaleTargetRef", "kind").Scalar() == "Deployment"
                && a.Root.Get("spec", "scaleTargetRef", "name").Scalar() == deployment.Name);

            Assert.True(autoscaler is not null, $"{deployment}: no HorizontalPodAutoscaler targets it.");
            Assert.Contains(autoscaler.Root.Get("spec", "metrics").Items(), m =>
                m.Get("type").Scalar() == "Resource" && m.Get("resource", "name").Scalar() == "cpu");
            Assert.True(autoscaler.Root.Get("spec", "minReplicas").Int() >= 2, $"{autoscaler}: minReplicas must be at least 2 so a disruption leaves one pod.");
            Assert.True(deployment.Root.Get("spec", "replicas") is null, $"{deployment}: spec.replicas would reset the autoscaler's count on every apply.");
        }
    }

    [Fact]
    public void Services_SelectorsAndTargetPorts_MatchPods()
    {
        foreach (var service in Manifests.OfKind("Service"))
        {
            var selector = service.Root.Get("spec", "selector").ScalarMap();
            var workload = Manifests.Workloads.FirstOrDefault(w =>
                w.Namespace == service.Namespace && selector.Count > 0 && selector.All(s => KubernetesManifests.PodLabels(w).GetValueOrDefault(s.Key) == s.Value));
            Assert.True(workload is not null, $"{service}: its selector matches no pod template.");

            var declared = KubernetesManifests.Containers(workload).SelectMany(c => KubernetesManifests.ContainerPorts(c).Keys).ToHashSet();
            foreach (var port in service.Root.Get("spec", "ports").Items())
            {
                var target = port.Get("targetPort").Scalar() ?? port.Get("port").Scalar();
                Assert.True(target is not null && declared.Contains(target), $"{service}: targetPort '{target}' is not a containerPort of {workload}.");
            }
        }
    }

    [Fact]
    public void EdgeService_Port80_TargetsEdgeHttpPort()
    {
        var service = Manifests.Single("Service", "edge");
        var edge = Manifests.Single("Deployment", "edge");
        var ports = KubernetesManifests.ContainerPorts(KubernetesManifests.Container(edge, "edge"));

        var port = Assert.Single(service.Root.Get("spec", "ports").Items(), p => p.Get("port").Int() == 80);

        Assert.Equal(8080, ports.GetValueOrDefault(port.Get("targetPort").Scalar() ?? ""));
    }

    private static IEnumerable<(KubernetesObject Deployment, YamlMappingNode Container)> GatewayContainers()
    {
        var edge = Manifests.Single("Deployment", "edge");
        var silo = Manifests.Single("Deployment", "silo");
        yield return (edge, KubernetesManifests.Container(edge, "edge"));
        yield return (silo, KubernetesManifests.Container(silo, "silo"));
    }

    private static TimeSpan TimeSpanOr(IReadOnlyDictionary<string, EnvironmentVariable> environment, string name, TimeSpan fallback) =>
        ValueOr(environment, name, null) is { } value ? TimeSpan.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string? ValueOr(IReadOnlyDictionary<string, EnvironmentVariable> environment, string name, string? fallback) =>
        environment.TryGetValue(name, out var variable) ? variable.Value : fallback;

    /// <summary>The value after <paramref name="option"/> in a redis-server command line (<c>--appendonly yes</c>).</summary>
    private static string? OptionValue(List<string> arguments, string option)
    {
        var index = arguments.LastIndexOf(option);
        return index >= 0 && index + 1 < arguments.Count ? arguments[index + 1] : null;
    }

    private static bool Selects(YamlNode? selector, IReadOnlyDictionary<string, string> labels)
    {
        var matchLabels = selector.Get("matchLabels").ScalarMap();
        return selector.Get("matchExpressions") is null
            && matchLabels.Count > 0
            && matchLabels.All(l => labels.GetValueOrDefault(l.Key) == l.Value);
    }
}
