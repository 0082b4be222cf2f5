using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace OrleansGateway.Grains;

/// <summary>
/// Edge lease timing, shared by silos and edges (a contract between them, hence here). Section <c>Gateway:Lease</c>.
/// </summary>
public sealed class EdgeLeaseOptions
{
    public const string SectionName = "Gateway:Lease";

    /// <summary>Default for <see cref="Ttl"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a lease lasts after a renewal. A crashed edge's sessions are dropped from grains at most
    /// <see cref="Ttl"/> after its last renewal (plus the silo's cached copy, which never outlives the lease).
    /// </summary>
    public TimeSpan Ttl { get; set; } = DefaultTtl;

    /// <summary>How often an edge renews: a third of <see cref="Ttl"/>, so two renewals may fail before it lapses.</summary>
    public TimeSpan RenewInterval => Ttl / 3;
}

public sealed class EdgeLeaseOptionsValidator : IValidateOptions<EdgeLeaseOptions>
{
    public ValidateOptionsResult Validate(string? name, EdgeLeaseOptions options) =>
        options.Ttl < TimeSpan.FromSeconds(1) || options.Ttl > TimeSpan.FromMinutes(10)
            ? ValidateOptionsResult.Fail($"{EdgeLeaseOptions.SectionName}:Ttl must be between 1 second and 10 minutes (was {options.Ttl}).")
            : ValidateOptionsResult.Success;
}

public static class EdgeLeaseOptionsExtensions
{
    /// <summary><see cref="EdgeLeaseOptions"/> bound from <see cref="EdgeLeaseOptions.SectionName"/>, validated at start: silos and edges alike.</summary>
    public static IServiceCollection AddEdgeLeaseOptions(this IServiceCollection services)
    {
        services.AddOptions<EdgeLeaseOptions>().BindConfiguration(EdgeLeaseOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EdgeLeaseOptions>, EdgeLeaseOptionsValidator>();
        return services;
    }
}
