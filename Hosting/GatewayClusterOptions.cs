using System.Net;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Hosting;

/// <summary>
/// How silos and edges find each other. Section <c>Gateway:Cluster</c>. With <see cref="Redis"/> set, membership
/// lives in Redis (production); without it, localhost development clustering.
/// </summary>
public sealed class GatewayClusterOptions
{
    public const string SectionName = "Gateway:Cluster";

    /// <summary>Default for <see cref="ClusterId"/> and <see cref="ServiceId"/>.</summary>
    public const string DefaultId = "ogw";

    /// <summary>Default for <see cref="SiloPort"/>: 11111 (Orleans' default).</summary>
    public const int DefaultSiloPort = 11111;

    /// <summary>Default for <see cref="GatewayPort"/>: 30000 (Orleans' default).</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>Default for <see cref="ClientDropTimeout"/>: 10 seconds (Orleans' default is 1 minute).</summary>
    public static readonly TimeSpan DefaultClientDropTimeout = TimeSpan.FromSeconds(10);

    public string ClusterId { get; set; } = DefaultId;

    public string ServiceId { get; set; } = DefaultId;

    /// <summary>StackExchange.Redis configuration string for Redis clustering; null or empty = localhost clustering.</summary>
    public string? Redis { get; set; }

    /// <summary>Silo-to-silo port (silos only).</summary>
    public int SiloPort { get; set; } = DefaultSiloPort;

    /// <summary>Client gateway port (silos only).</summary>
    public int GatewayPort { get; set; } = DefaultGatewayPort;

    /// <summary>Localhost clustering: the silo port of the primary silo (defaults to <see cref="SiloPort"/>: this silo is primary).</summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>Localhost clustering, edges: gateway ports of the silos to connect to (defaults to <see cref="GatewayPort"/>).</summary>
    public int[] GatewayPorts { get; set; } = [];

    /// <summary>Address silos advertise to each other (Kubernetes: the pod IP). Loopback when unset.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// How long a silo keeps queueing for a disconnected edge before dropping it. Orleans' 1-minute default
    /// would keep two-way calls to a dead edge hanging; grains only push one-way, and the lease is what drops
    /// sessions, so this just bounds the queueing.
    /// </summary>
    public TimeSpan ClientDropTimeout { get; set; } = DefaultClientDropTimeout;

    internal bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);

    internal IPAddress AdvertisedIp => string.IsNullOrWhiteSpace(AdvertisedAddress) ? IPAddress.Loopback : IPAddress.Parse(AdvertisedAddress);

    /// <summary>Redacts the Redis password for logs.</summary>
    public override string ToString() =>
        $"ClusterId={ClusterId} ServiceId={ServiceId} Redis={(UsesRedis ? RedactPassword(Redis!) : "(localhost clustering)")}";

    private static string RedactPassword(string configuration) =>
        string.Join(',', configuration.Split(',').Select(p => p.TrimStart().StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=*****" : p));
}

internal sealed class GatewayClusterOptionsValidator : IValidateOptions<GatewayClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayClusterOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            failures.Add($"{GatewayClusterOptions.SectionName}:ClusterId is required.");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceId))
        {
            failures.Add($"{GatewayClusterOptions.SectionName}:ServiceId is required.");
        }

        if (options.SiloPort is < 0 or > 65535 || options.GatewayPort is < 0 or > 65535)
        {
            failures.Add($"{GatewayClusterOptions.SectionName}:SiloPort and GatewayPort must be valid TCP ports.");
        }

        if (!string.IsNullOrWhiteSpace(options.AdvertisedAddress) && !IPAddress.TryParse(options.AdvertisedAddress, out _))
        {
            failures.Add($"{GatewayClusterOptions.SectionName}:AdvertisedAddress must be an IP address (was '{options.AdvertisedAddress}').");
        }

        if (options.ClientDropTimeout < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{GatewayClusterOptions.SectionName}:ClientDropTimeout must be at least 1 second.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
